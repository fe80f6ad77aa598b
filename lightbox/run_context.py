"""What a DAG needs that is the same in every DAG, without importing Airflow: a run's time
(``as_of``), the shared ``default_args`` and the fixed tag vocabulary.

Every task writes "as of" its run's data interval end, never ``now()``, so a rerun of the
same run writes the same thing (shared/DESIGN.md). Asset-triggered and manual runs may have no
data interval: then the logical date, then the time the run was due (``run_after``). The
library calls that time ``as_of`` too; DAGs pass ``run_context.as_of(context)`` to it."""
from __future__ import annotations

from datetime import timedelta

# Every DAG's default_args (a DAG may override one key for one task, never the whole dict).
DEFAULT_ARGS = {"owner": "lightbox", "retries": 2, "retry_delay": timedelta(minutes=1)}

# The tags a DAG may carry (the DagBag test enforces it): every DAG has "lightbox" and the
# area it belongs to; more only from this list.
TAGS = frozenset({
    "lightbox",
    "ingest", "raw",
    "licensing", "ml",
    "infringement", "crawler", "matching",
    "exclusivity",
    "settlement", "finance",
    "replication",
    "dbt", "marts",
    "quality",
})


def as_of(context):
    """The run's time: its data interval end, else its logical date, else its run_after."""
    for key in ("data_interval_end", "logical_date"):
        value = context.get(key)
        if value is not None:
            return value
    return context["dag_run"].run_after
