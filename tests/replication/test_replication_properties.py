"""Property-based tests: random sequences of uploads, grants, revokes, photo and account
deletions, store tampering and syncs, with crashes injected between store operations (and
torn writes). After every completed sync each region holds exactly the consented, undeleted
photos, byte-identical to the originals; the inventory never claims an object the store does
not hold, even right after a crash; every object written or deleted was announced in the
audit log first, and replaying the audit log gives what the region holds."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from replication_helpers import T0, CrashingStore, Raw, jpeg_bytes

from lightbox import db
from lightbox.config import Region
from lightbox.replication.store import RegionStore, object_key, photo_id_of
from lightbox.replication.sync import sync_region

USERS = ["u0", "u1", "u2"]
REGIONS = [("eu", True), ("cn", False)]
MAX_PHOTOS = 6

mutation = st.one_of(
    # consent events name a photo; its owner gives them, for that photo or for all their photos
    st.tuples(st.sampled_from(["grant", "grant", "revoke"]), st.integers(0, MAX_PHOTOS - 1),
              st.sampled_from(["eu", "cn"]), st.booleans(), st.integers(-2, 0)),
    st.tuples(st.just("upload"), st.integers(0, 2), st.booleans(), st.integers(0, 50)),
    st.tuples(st.just("reupload"), st.integers(0, MAX_PHOTOS - 1), st.integers(51, 99)),
    st.tuples(st.just("delete_photo"), st.integers(0, MAX_PHOTOS - 1)),
    st.tuples(st.just("delete_user"), st.integers(0, 2)),
    st.tuples(st.just("stray"), st.sampled_from(["eu", "cn"]), st.integers(0, MAX_PHOTOS - 1)),
)
# a round: a few changes, then a sync of every region that crashes after `budget` store
# operations (None: no crash), the crashing write torn in half if `torn`
NO_CRASH = 16  # budgets from here on mean: no crash
sync_round = st.tuples(
    st.lists(mutation, min_size=1, max_size=4),
    st.one_of(st.integers(0, 4), st.integers(2, 8), st.integers(0, NO_CRASH - 1), st.just(NO_CRASH)),
    st.booleans(),
)
scenario = st.tuples(
    st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=MAX_PHOTOS),  # initial uploads
    # initial grants: (photo whose owner grants, region, for that photo only?)
    st.lists(st.tuples(st.integers(0, MAX_PHOTOS - 1), st.sampled_from(["eu", "cn"]), st.booleans()),
             min_size=1, max_size=4),
    st.lists(sync_round, min_size=2, max_size=6),
)


class Model:
    """An independent statement of the consent rules, over the test's own bookkeeping."""

    def __init__(self):
        self.photos = {}  # pid -> dict(owner, exclusive, deleted, data)
        self.deleted_users = set()
        self.events = []  # (event_id, user, region, pid|None, action, at)

    def expected(self, region: str, enforceable: bool, as_of) -> dict[str, str]:
        """What the region holds after a sync at ``as_of``: events after it do not count yet."""
        out = {}
        for pid, p in self.photos.items():
            if p["deleted"] or p["owner"] in self.deleted_users:
                continue
            mine = [e for e in self.events
                    if e[1] == p["owner"] and e[2] == region and e[3] in (None, pid) and e[5] <= as_of]
            order = lambda e: (e[5], e[3] is not None, e[4] == "revoke", e[0])  # noqa: E731
            mine.sort(key=order)
            if not mine or mine[-1][4] != "grant":
                continue
            if p["exclusive"] and not enforceable:
                # a photo-level grant after which nothing was revoked
                last_photo = [e for e in mine if e[3] == pid]
                if not last_photo or last_photo[-1][4] != "grant":
                    continue
                if any(e[4] == "revoke" and order(e) > order(last_photo[-1]) for e in mine):
                    continue
            out[pid] = hashlib.sha256(p["data"]).hexdigest()
        return out


def _reset(conn):
    with conn.cursor() as cur:
        cur.execute(
            "truncate raw.users, raw.photos, raw.region_consents, replication.inventory, "
            "replication.audit_log, replication.runs restart identity"
        )


def _check_inventory_in_store(conn, region: Region, store: RegionStore):
    listing = store.list()
    with conn.cursor() as cur:
        cur.execute("select photo_id, object_key, sha256 from replication.inventory where region = %s", (region.code,))
        for pid, key, sha in cur.fetchall():
            assert key in listing, f"inventory claims {key} the store does not hold"
            assert hashlib.sha256(store.get(key)).hexdigest() == sha


def _check_journal(conn, journal):
    with conn.cursor() as cur:
        for op, key, probe in journal:
            actions = ("copy_started",) if op == "put" else ("delete", "repair")
            cur.execute(
                "select count(*) from replication.audit_log where object_key = %s and action = any(%s) and audit_id <= %s",
                (key, list(actions), probe),
            )
            assert cur.fetchone()[0] > 0, f"{op} {key} happened without an audit row announcing it"


def _check_converged(conn, model, region: Region, store: RegionStore, as_of):
    expected = model.expected(region.code, region.enforceable, as_of)
    holds = {photo_id_of(k): hashlib.sha256(store.get(k)).hexdigest() for k in store.list()}
    assert holds == expected
    with conn.cursor() as cur:
        cur.execute("select photo_id, sha256 from replication.inventory where region = %s", (region.code,))
        assert dict(cur.fetchall()) == expected
        cur.execute(
            "select photo_id, direction from replication.audit_log where region = %s and direction is not null "
            "order by audit_id",
            (region.code,),
        )
        replay = {}
        for pid, direction in cur.fetchall():
            replay[pid] = direction
        assert {pid for pid, d in replay.items() if d == "in"} == set(expected)
        # every copy names the grant it rests on
        cur.execute(
            """select a.photo_id, a.consent_event_id, e.action, e.user_id = a.owner_id, lower(e.region)
               from replication.audit_log a left join raw.region_consents e on e.event_id = a.consent_event_id
               where a.region = %s and a.action in ('copy', 'copy_started')""",
            (region.code,),
        )
        for pid, event_id, action, own, ev_region in cur.fetchall():
            assert action == "grant" and own and ev_region == region.code, (pid, event_id)


def run_scenario(conn, landing: Path, scenario_) -> None:
    uploads, grants, rounds = scenario_
    _reset(conn)
    shutil.rmtree(landing / "images", ignore_errors=True)
    root = Path(tempfile.mkdtemp(prefix="lbrep-"))
    probe_conn = db.connect(conn.dsn)
    probe_conn.autocommit = True

    def probe():
        with probe_conn.cursor() as cur:
            cur.execute("select coalesce(max(audit_id), 0) from replication.audit_log")
            return cur.fetchone()[0]

    try:
        raw = Raw(conn, landing)
        model = Model()
        regions = [Region(code, f"file://{root}/{code}", enforceable) for code, enforceable in REGIONS]
        stores = {r.code: RegionStore(r.uri) for r in regions}
        journal = []
        for u in USERS:
            raw.user(u)
        counter = {"events": 0, "crashes": 0}

        def upload(owner: int, exclusive: bool, seed: int) -> None:
            if len(model.photos) >= MAX_PHOTOS:
                return
            pid = f"p{len(model.photos)}"
            data = jpeg_bytes(seed * 1000 + len(model.photos))
            raw.photo(pid, USERS[owner], exclusive=exclusive, data=data)
            model.photos[pid] = {"owner": USERS[owner], "exclusive": exclusive, "deleted": False, "data": data}

        for owner, exclusive in uploads:
            upload(owner, exclusive, 0)
        rounds = [([("grant", i, region, photo_level, 0) for i, region, photo_level in grants], NO_CRASH, False),
                  *rounds]
        for r, (mutations, budget, torn) in enumerate(rounds):
            now = T0 + timedelta(hours=r + 1)
            for m, s in enumerate(mutations):
                kind, when = s[0], now + timedelta(minutes=m)
                if kind in ("grant", "revoke"):
                    pid = f"p{s[1] % len(model.photos)}"
                    owner = model.photos[pid]["owner"]
                    counter["events"] += 1
                    event_id = f"e{counter['events']:04d}"
                    at = when + timedelta(minutes=30 * s[4])  # events may arrive out of order
                    target = pid if s[3] else None
                    raw.consent(event_id, owner, s[2], kind, at, photo_id=target)
                    model.events.append((event_id, owner, s[2], target, kind, at))
                elif kind == "upload":
                    upload(s[1], s[2], s[3])
                elif kind == "reupload" and f"p{s[1]}" in model.photos:
                    pid = f"p{s[1]}"
                    p = model.photos[pid]
                    data = jpeg_bytes(s[2] * 1000 + s[1])
                    raw.photo(pid, p["owner"], exclusive=p["exclusive"], data=data,
                              deleted_at=when if p["deleted"] else None)
                    p["data"] = data
                elif kind == "delete_photo" and f"p{s[1]}" in model.photos:
                    raw.delete_photo(f"p{s[1]}", when)
                    model.photos[f"p{s[1]}"]["deleted"] = True
                elif kind == "delete_user":
                    raw.delete_user(USERS[s[1]], when)
                    model.deleted_users.add(USERS[s[1]])
                elif kind == "stray":
                    # an object nobody recorded (left by an older tool, say) for some photo id
                    key = object_key(f"p{s[2]}", hashlib.sha256(b"stray").hexdigest(), "x.jpg")
                    stores[s[1]].put(key, b"stray")
            for region in regions:
                store = CrashingStore(stores[region.code], budget if budget < NO_CRASH else None,
                                      torn=torn, journal=journal, probe=probe)
                try:
                    sync_region(region, run_id=f"run{r}", at=now, conn=conn, store=store,
                                landing=landing, workers=1, copy_batch=2, batch_size=3)
                    crashed = False
                except CrashingStore.Crash:
                    crashed = True
                    counter["crashes"] += 1
                _check_inventory_in_store(conn, region, stores[region.code])
                _check_journal(conn, journal)
                if not crashed:
                    _check_converged(conn, model, region, stores[region.code], now)
        # finally a sync that completes, and one more that must change nothing
        for final in ("final", "again"):
            for region in regions:
                store = CrashingStore(stores[region.code], None, journal=journal, probe=probe)
                result = sync_region(region, run_id=final, at=T0 + timedelta(days=1), conn=conn, store=store,
                                     landing=landing, workers=1, copy_batch=2, batch_size=3)
                if final == "again":
                    assert (result.copied, result.deleted, result.repaired) == (0, 0, 0)
                _check_inventory_in_store(conn, region, stores[region.code])
                _check_converged(conn, model, region, stores[region.code], T0 + timedelta(days=1))
        _check_journal(conn, journal)
        event(f"puts: {min(sum(1 for j in journal if j[0] == 'put'), 5)}+")
        event(f"deletes: {min(sum(1 for j in journal if j[0] == 'delete'), 3)}+")
        event(f"crashed syncs: {min(counter['crashes'], 3)}+")
    finally:
        probe_conn.close()
        shutil.rmtree(root, ignore_errors=True)


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(max_examples=30, **COMMON)
@given(scenario_=scenario)
def test_sync_converges_under_crashes(conn, landing, scenario_):
    run_scenario(conn, landing, scenario_)


@pytest.mark.slow
@settings(max_examples=40, **COMMON)
@given(scenario_=scenario)
def test_sync_converges_under_crashes_long(conn, landing, scenario_):
    run_scenario(conn, landing, scenario_)
