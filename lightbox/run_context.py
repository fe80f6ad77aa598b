"""What a task needs from an Airflow run's context, without importing Airflow: the run's time.

Every task writes "as of" its run's data interval end, never ``now()``, so a rerun of the
same run writes the same thing (shared/DESIGN.md). Asset-triggered and manual runs may have no
data interval: then the logical date, then the time the run was due (``run_after``)."""
from __future__ import annotations


def run_time(context):
    """The run's time: its data interval end, else its logical date, else its run_after."""
    for key in ("data_interval_end", "logical_date"):
        value = context.get(key)
        if value is not None:
            return value
    return context["dag_run"].run_after


def as_of_iso(context) -> str:
    """The run's time as an ISO 8601 string (what some libraries take)."""
    return run_time(context).isoformat()
