"""The critical gates pass on what the pipelines really write (not only on hand-made rows)."""
from datetime import datetime, timezone

from lightbox import db
from lightbox.quality.gates import run_gate


def test_ledger_gate_passes_on_a_real_reconciliation(conn, db_url, lightbox_home):
    from settlement import synthetic  # tests/settlement/synthetic.py

    from lightbox.settlement import reconcile

    as_of = datetime(2026, 4, 1, tzinfo=timezone.utc)
    with db.transaction(db_url) as tx, tx.cursor() as cur:
        synthetic.generate(cur, 300)
    reconcile.reconcile(as_of, url=db_url)
    with conn.cursor() as cur:
        cur.execute("select count(*), count(*) filter (where kind = 'reversal') from settlement.transactions")
        txns, reversals = cur.fetchone()
    assert txns > 100
    outcome = run_gate("ledger", "run-real-ledger", as_of)
    assert outcome["settlement_ledger"]["success"] and outcome["settlement_credits"]["success"], outcome


def test_replication_gate_passes_after_a_real_sync(conn, landing, lightbox_home):
    from quality_helpers import AS_OF, clean_raw, photo_bytes

    from lightbox.replication.sync import sync_region

    data = clean_raw(conn)
    (landing / "images").mkdir()
    for n, photo in enumerate(data["photos"]):
        (landing / photo["image_path"]).write_bytes(photo_bytes(n))  # the clean rows' sha256
    for region in ("eu", "cn"):
        sync_region(region, run_id="sync-1", at=AS_OF)
    with conn.cursor() as cur:
        cur.execute("select region, count(*) from replication.inventory group by region")
        assert dict(cur.fetchall()) == {"eu": 12}  # u1's photos, eu only
    outcome = run_gate("replication", "run-real-repl", AS_OF)
    assert all(v["success"] for v in outcome.values()), outcome
