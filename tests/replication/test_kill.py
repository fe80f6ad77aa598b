"""A sync killed with SIGKILL (no clean-up code runs) at several points: right after each
kill the inventory claims only objects the store holds, and the next run converges."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest
from replication_helpers import at

from lightbox.config import Region
from lightbox.replication.store import RegionStore, photo_id_of
from lightbox.replication.sync import sync_region

N = 240
SYNC = """
import sys
from datetime import datetime
from pathlib import Path
from lightbox.config import Region
from lightbox.replication.sync import sync_region
uri, landing, run_id, when = sys.argv[1:5]
sync_region(Region("eu", uri, True), run_id=run_id, at=datetime.fromisoformat(when),
            landing=Path(landing), workers=1, copy_batch=4, batch_size=10)
"""


def _count(conn, run_id, action):
    with conn.cursor() as cur:
        cur.execute("select count(*) from replication.audit_log where run_id = %s and action = %s", (run_id, action))
        return cur.fetchone()[0]


def _killed_run(conn, region, landing, run_id, minute, action, threshold) -> bool:
    """Start a sync in a child process; SIGKILL it once `threshold` audit rows of `action`
    are committed. Returns whether it was killed before it finished."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SYNC, region.uri, str(landing), run_id, at(minute).isoformat()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if _count(conn, run_id, action) >= threshold:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.wait()
    return False


def _check_inventory_in_store(conn, region):
    store = RegionStore(region.uri)
    listing = store.list()
    with conn.cursor() as cur:
        cur.execute("select object_key, sha256 from replication.inventory where region = %s", (region.code,))
        for key, sha in cur.fetchall():
            assert key in listing
            assert hashlib.sha256(store.get(key)).hexdigest() == sha


@pytest.mark.slow
def test_sigkill_at_any_point_converges(conn, raw, landing, tmp_path):
    region = Region("eu", f"file://{tmp_path}/eu", True)
    raw.user("u1")
    sha = {f"p{i:03d}": hashlib.sha256(raw.photo(f"p{i:03d}", "u1", seed=i)).hexdigest() for i in range(N)}
    raw.consent("e1", "u1", "eu", "grant", at(0))
    kills = 0
    for n, threshold in enumerate([1, 9, 40, 120]):
        kills += _killed_run(conn, region, landing, f"copy{n}", 1 + n, "copy_started", threshold)
        _check_inventory_in_store(conn, region)
    sync_region(region, run_id="copy-final", at=at(10), conn=conn, landing=landing)
    store = RegionStore(region.uri)
    assert {photo_id_of(k): hashlib.sha256(store.get(k)).hexdigest() for k in store.list()} == sha

    raw.consent("e2", "u1", "eu", "revoke", at(20))  # everything leaves
    for n, threshold in enumerate([1, 30, 100]):
        kills += _killed_run(conn, region, landing, f"revoke{n}", 21 + n, "delete", threshold)
        _check_inventory_in_store(conn, region)
    sync_region(region, run_id="revoke-final", at=at(30), conn=conn, landing=landing)
    assert store.list() == {}
    with conn.cursor() as cur:
        cur.execute("select count(*) from replication.inventory")
        assert cur.fetchone()[0] == 0
        # replaying the audit log: every photo ends 'out'
        cur.execute(
            "select distinct on (photo_id) photo_id, direction from replication.audit_log "
            "where direction is not null order by photo_id, audit_id desc"
        )
        assert {d for _, d in cur.fetchall()} == {"out"}
    assert kills >= 3  # the kills really happened mid-run
