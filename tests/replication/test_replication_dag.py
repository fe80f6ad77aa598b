"""replication_sync end to end with dag.test(): file:// regions under a tmp LIGHTBOX_HOME."""
from __future__ import annotations

import hashlib
from pathlib import Path

from replication_helpers import at

from lightbox.replication.store import RegionStore, photo_id_of


def holdings(home, code):
    store = RegionStore(f"file://{home}/regions/{code}")
    return {photo_id_of(k): hashlib.sha256(store.get(k)).hexdigest() for k in store.list()}


def audit_count(conn):
    with conn.cursor() as cur:
        cur.execute("select count(*) from replication.audit_log")
        return cur.fetchone()[0]


def test_replication_sync_dag(run_dag, conn, raw, landing, lightbox_home, monkeypatch):
    monkeypatch.setenv("LIGHTBOX_REGIONS", "cn,eu")
    monkeypatch.setenv("LIGHTBOX_REGION_CN_ENFORCEABLE", "false")
    raw.user("alice")
    raw.user("bob")
    sha = {}
    for i, (pid, owner, exclusive) in enumerate(
        [("a1", "alice", False), ("a2", "alice", True), ("a3", "alice", False), ("b1", "bob", False)]
    ):
        sha[pid] = hashlib.sha256(raw.photo(pid, owner, seed=i, exclusive=exclusive)).hexdigest()
    raw.consent("c1", "alice", "eu", "grant", at(0))
    raw.consent("c2", "alice", "cn", "grant", at(0))
    raw.consent("c3", "bob", "eu", "grant", at(0))

    dag_run, states = run_dag("replication_sync")
    assert states == {"list_regions": "success", "sync_region": "success", "validate_replication": "success"}
    assert holdings(lightbox_home, "eu") == {p: sha[p] for p in ["a1", "a2", "a3", "b1"]}
    assert holdings(lightbox_home, "cn") == {p: sha[p] for p in ["a1", "a3"]}  # a2 exclusive, cn unenforceable

    raw.consent("c4", "alice", "eu", "revoke", at(10), photo_id="a1")
    raw.delete_photo("a3")
    raw.delete_user("bob")
    dag_run, states = run_dag("replication_sync")
    assert states == {"list_regions": "success", "sync_region": "success", "validate_replication": "success"}
    assert set(holdings(lightbox_home, "eu")) == {"a2"}
    assert set(holdings(lightbox_home, "cn")) == {"a1"}
    with conn.cursor() as cur:
        cur.execute(
            "select region, photo_id, reason from replication.audit_log where run_id = %s and direction = 'out'",
            (dag_run.run_id,),
        )
        assert set(cur.fetchall()) == {
            ("eu", "a1", "consent_revoked"), ("eu", "a3", "photo_deleted"),
            ("cn", "a3", "photo_deleted"), ("eu", "b1", "account_deleted"),
        }
        cur.execute("select count(*) from replication.runs where run_id = %s and status = 'success'", (dag_run.run_id,))
        assert cur.fetchone()[0] == 2

    before = audit_count(conn)
    dag_run, states = run_dag("replication_sync")
    assert states["sync_region"] == "success"
    assert audit_count(conn) == before  # a second run changes nothing


def test_unreachable_region_fails_its_own_task_and_the_others_sync(
    airflow_metadata, conn, raw, landing, lightbox_home, monkeypatch
):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    (lightbox_home / "down").write_text("a file where the cn region's folder should be")
    monkeypatch.setenv("LIGHTBOX_REGIONS", "cn,eu")
    monkeypatch.setenv("LIGHTBOX_REGION_CN_URI", f"file://{lightbox_home}/down/cn")
    raw.user("alice")
    raw.photo("a1", "alice", seed=1)
    raw.consent("c1", "alice", "eu", "grant", at(0))
    raw.consent("c2", "alice", "cn", "grant", at(0))

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags" / "replication_sync.py"))
    assert not bag.import_errors
    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    sync_bag_to_db(bag, "dags-folder", None)
    dag = bag.get_dag("replication_sync")
    task = dag.get_task("sync_region")
    assert task.retries == 2  # in production an unreachable region is retried…
    task.retries = 0  # …here we look at one try, without waiting for the retry delay
    dag_run = dag.test()
    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id="replication_sync", run_id=dag_run.run_id,
                                                    task_id="sync_region").all()
        states = {ti.map_index: str(getattr(ti.state, "value", ti.state)) for ti in tis}
    assert states == {0: "failed", 1: "success"}  # cn first in LIGHTBOX_REGIONS
    assert set(holdings(lightbox_home, "eu")) == {"a1"}
    with conn.cursor() as cur:
        cur.execute("select region, status from replication.runs where run_id = %s order by region", (dag_run.run_id,))
        assert cur.fetchall() == [("cn", "failed"), ("eu", "success")]
