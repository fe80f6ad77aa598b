"""
# settlement_reconcile

## Purpose
Reconciles infringement partners' settlement reports: matches every report line to a case
(by `case_ref`, else by photo and the infringer's registrable domain), validates it, splits
the gross into partner fee, photographer share (`LIGHTBOX_PHOTOGRAPHER_SHARE` of the net) and
platform residue, posts a double-entry ledger and credits each photographer exactly once.
Lines that do not reconcile are listed with a named kind in `settlement.discrepancies`.

## Inputs
`raw.settlement_reports` (+ `_history`), `raw.fx_rates`, `raw.quarantine`
(source `settlement_reports`), `infringement.cases`, `exclusivity.holds`.
Scheduled on the Assets of `ingest_landing` (raw) and `infringement_sweep` (cases).

## Outputs
`settlement.ledger` (+ `settlement.transactions`), `settlement.credits`,
`settlement.discrepancies`, `settlement.report_summaries` (`lightbox settlement summary`).
Emits the Asset `lightbox.settlement.ledger`.

## Idempotency key
`(partner, report_id, line_id)`: one ledger transaction and one credit per line, enforced by
unique constraints. `posted_at` / `credited_at` are the run's data interval end. A rerun,
a retry or a second run posts nothing new; ledger and credits are insert-only.

## Triage notes
- A line missing from credits: look it up in `settlement.discrepancies` (kind, detail).
- `missing_fx_rate`: load the rate for the collection date into `fx_rates`; the next run
  credits the line. Rates are never guessed.
- `changed_after_posting`: a partner re-sent a posted line with other amounts; ask the partner
  for a reversal line (`reverses_line_id`). Posted money is never edited.
- A failed `post_ledger` rolls back whole; rerun the DAG. A crash between `post_ledger` and
  `credit_photographers` is completed by the next run.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from lightbox import assets, run_context, task_defaults


@dag(
    dag_id="settlement_reconcile",
    doc_md=__doc__,
    schedule=[Asset(assets.INFRINGEMENT_CASES), Asset(assets.RAW)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "settlement", "finance"],
)
def settlement_reconcile():
    @task
    def match_lines(**context) -> dict:
        from lightbox.settlement import reconcile

        return reconcile.match_lines(run_context.as_of(context))

    @task
    def post_ledger(matched: dict, **context) -> dict:
        from lightbox.settlement import reconcile

        return reconcile.post_ledger(run_context.as_of(context))

    @task
    def credit_photographers(posted: dict, **context) -> dict:
        from lightbox.settlement import reconcile

        return reconcile.credit_photographers(run_context.as_of(context))

    @task
    def validate_ledger(**context) -> int:
        from airflow.sdk.exceptions import AirflowFailException

        from lightbox.quality.gates import run_gate

        outcome = run_gate("ledger", context["run_id"], run_context.as_of(context), error=AirflowFailException)
        return sum(not suite["success"] for suite in outcome.values())

    @task(outlets=[Asset(assets.SETTLEMENT_LEDGER)])
    def summarise_reports(credited: dict, **context) -> dict:
        from lightbox.settlement import reconcile

        return reconcile.summarise_reports(run_context.as_of(context))

    credited = credit_photographers(post_ledger(match_lines()))
    credited >> validate_ledger() >> summarise_reports(credited)


settlement_reconcile()
