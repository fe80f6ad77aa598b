"""Both DAGs end to end with dag.test(): train, promote, scan, queue."""
import pytest


@pytest.mark.slow
def test_train_then_score_dags(history_market, lightbox_home, run_dag, db_url):
    from aiscan_market import T0

    m = history_market
    m.user("auto", auto_licensing=True)
    m.photo("new_sharp", "auto", T0.replace(year=2026), kind="sharp", n=1, submitted_for_licensing=False)
    m.photo("new_dark", "auto", T0.replace(year=2026), kind="dark", n=2, submitted_for_licensing=False)

    _, states = run_dag("licensing_train_model")
    assert states == {"train_model": "success", "promote_model": "success"}
    with m.conn.cursor() as cur:
        cur.execute("select count(*) from licensing.model_versions where is_champion")
        assert cur.fetchone()[0] == 1

    _, states = run_dag("licensing_score_submissions")
    assert states == {"score_submissions": "success", "validate_scores": "success"}
    with m.conn.cursor() as cur:
        cur.execute("select photo_id, decision from licensing.scores where photo_id like 'new%' order by photo_id")
        assert dict(cur.fetchall()) == {"new_dark": "not_suitable", "new_sharp": "under_review"}
        cur.execute("select count(*) from licensing.scores")
        scored = cur.fetchone()[0]
        cur.execute("select photo_id from licensing.review_queue")
        assert cur.fetchall() == [("new_sharp",)]

    # a second run of both changes nothing
    run_dag("licensing_train_model")
    run_dag("licensing_score_submissions")
    with m.conn.cursor() as cur:
        cur.execute("select count(*) from licensing.model_versions")
        assert cur.fetchone()[0] == 1
        cur.execute("select count(*) from licensing.scores")
        assert cur.fetchone()[0] == scored
