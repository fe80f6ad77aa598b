"""Quality gates: what the ``validate_<stage>`` tasks of the pipelines call.

``run_gate(stage, run_id, as_of)`` runs the stage's critical and warning suites. A failed
critical suite raises :class:`QualityGateFailed` (the task fails, so the tasks and Asset
events after it do not happen); a failed warning suite is recorded in ``quality.results``
and printed as a ``lightbox-summary:`` line, and the pipeline goes on.
"""
from __future__ import annotations

from datetime import datetime

from lightbox.quality import CRITICAL


class QualityGateFailed(RuntimeError):
    """A critical suite failed: downstream work must not run on this data."""


def _as_datetime(as_of) -> datetime:
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    # pendulum DateTimes are datetimes; normalise to a plain aware datetime
    return datetime.fromtimestamp(as_of.timestamp(), tz=as_of.tzinfo)


def run_gate(stage: str, run_id: str, as_of, *, error: type[Exception] = QualityGateFailed,
             suite_names: list[str] | None = None) -> dict:
    """Validate ``stage`` (only its suites named in ``suite_names`` when given); return
    {suite: {success, severity, failed, evaluated, docs_uri}}.

    A failed critical suite raises ``error`` (a DAG passes Airflow's ``AirflowFailException``
    so that bad data fails the task at once instead of being retried)."""
    from lightbox.quality.runner import run_suites
    from lightbox.quality.suites import stage_suites

    suites = [s for s in stage_suites(stage) if suite_names is None or s.name in suite_names]
    if not suites:
        return {}
    results = run_suites(suites, run_id, _as_datetime(as_of))
    blocking = []
    for result in results:
        if result.success:
            print(f"lightbox-summary: quality ok {result.summary}")
        else:
            print(f"lightbox-summary: quality {result.severity.upper()} FAILED {result.summary}")
            if result.docs_uri:
                print(f"lightbox-summary: see {result.docs_uri}")
            if result.severity == CRITICAL:
                blocking.append(result)
    if blocking:
        raise error(
            f"critical quality suite(s) failed for stage {stage}: " + "; ".join(r.summary for r in blocking)
        )
    return {
        r.suite: {"success": r.success, "severity": r.severity, "failed": r.failed, "evaluated": r.evaluated,
                  "docs_uri": r.docs_uri}
        for r in results
    }
