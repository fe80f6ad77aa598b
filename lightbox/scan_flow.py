"""The event-driven path of a submission, from the landing folder to the review queue: what
its DAG runs decide, without Airflow (docs/aiscan.md).

A run started by an Asset event (``run_type`` ``asset_triggered``) is on the path a
photographer waits on, so it does only what that path needs:

- ``ingest_landing`` checks the *critical* raw suites of the sources it loaded (a suite
  judges its own source's table, so a photos file cannot break a consents suite); the
  scheduled (safety-net) and manual runs, and ``quality_report``, run every raw suite, the
  warnings included. Importing Great Expectations alone costs seconds, so a photos file,
  which no critical suite judges, passes its gate without it.
- ``licensing_score_submissions`` runs its (critical) scores gate, whose success emits the
  Asset that starts ``marts_build``, at most once per :data:`SCORES_GATE_INTERVAL`: a skipped
  gate leaves its scores to the next one, which judges the whole table; scheduled and manual
  runs always run it. The scores are in the queue before the gate either way.
"""
from __future__ import annotations

from datetime import timedelta

from lightbox.quality import CRITICAL

EVENT_RUN_TYPE = "asset_triggered"
SCORES_GATE_INTERVAL = timedelta(minutes=5)


def is_event_run(context) -> bool:
    """True for a run an Asset event started (on a photographer's critical path)."""
    dag_run = context.get("dag_run")
    run_type = getattr(dag_run, "run_type", None)
    return str(getattr(run_type, "value", run_type)) == EVENT_RUN_TYPE


def raw_gate_suites(loaded_sources: list[str], event_run: bool) -> list[str] | None:
    """Names of the raw suites a run's gate must check: ``None`` (all of them) unless the run
    is event-driven; then the critical suites over the tables of the sources it loaded."""
    if not event_run:
        return None
    from lightbox.quality.suites import stage_suites

    tables = {f"raw.{source}" for source in loaded_sources}
    return [s.name for s in stage_suites("raw") if s.severity == CRITICAL and s.asset in tables]


def scores_gate_due(conn, event_run: bool, interval: timedelta = SCORES_GATE_INTERVAL) -> bool:
    """Whether this scoring run checks the scores: always unless event-driven; an event-driven
    run only when the last scores gate ran ``interval`` ago or more (or never)."""
    if not event_run:
        return True
    with conn.cursor() as cur:
        # the last gate that passed (a failed one is checked again at once)
        cur.execute(
            """select coalesce(max(r.run_at) < now() - %s, true) from quality.results as r
               where r.stage = 'scores' and not exists (
                   select 1 from quality.results as f
                   where f.run_id = r.run_id and f.stage = 'scores' and f.severity = 'critical' and not f.success)""",
            (interval,),
        )
        return bool(cur.fetchone()[0])
