"""
# replication_sync

**Purpose.** Make each regional mirror (`LIGHTBOX_REGIONS`) hold exactly the photos whose
owners consented to that region, byte-identical (SHA-256 verified after every copy);
revoked, deleted and account-deleted photos are removed in the same run. Drift between the
inventory and what a store really holds is repaired both ways. Every change is audited.

**Inputs.** `raw.region_consents`, `raw.photos`, `raw.users`; photo bytes from the landing
folder (`image_path`); the regions' stores (`LIGHTBOX_REGION_<CODE>_URI`, fsspec URLs).

**Outputs.** `replication.inventory` (what each region holds), `replication.audit_log`
(every copy, delete and repair with reason and run id), `replication.runs` (one row per
run × region with counts and per-photo source errors). Emits `lightbox.replication.inventory`.

**Idempotency key.** The desired state itself: a run applies only the difference between
desired contents, inventory and the store listing, so a second run changes nothing. Audit
and inventory rows carry the run id and the run's time (data interval end, or run_after
for asset-triggered runs), never `now()`.

**Triage notes.** One mapped `sync_region` task per region: an unreachable region fails its
own task (and is retried) while the others sync. A run killed at any point is safe to
rerun: interrupted copies are adopted or deleted as `repair` rows. What a run did:
`select * from replication.runs order by started_at desc`; photos it could not copy are in
`errors` (missing source image, SHA-256 mismatch with `raw.photos.sha256`). Per photo:
`lightbox where-is USER_ID`, or `select * from replication.audit_log where photo_id = '…' order by audit_id`.
"""
import pendulum
from airflow.sdk import Asset, dag, task

from lightbox import assets, run_context, task_defaults


@dag(
    schedule=[Asset(assets.RAW)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults.DEFAULT_ARGS,
    tags=["lightbox", "replication"],
    doc_md=__doc__,
)
def replication_sync():
    @task
    def list_regions() -> list[str]:
        from lightbox.config import settings

        return [region.code for region in settings().regions]

    @task
    def sync_region(region: str) -> dict:
        from airflow.sdk import get_current_context

        from lightbox.replication.sync import sync_region as sync

        context = get_current_context()
        at = run_context.as_of(context)
        result = sync(region, run_id=context["run_id"], at=at)
        print(f"region {region}: {result.summary()}")
        return result.summary()

    # Runs when every region is done, failed or not: the regions that synced are checked
    # (and announced) even when one region is unreachable; that region's task fails the run.
    @task(outlets=[Asset(assets.REPLICATION_INVENTORY)], trigger_rule="all_done")
    def validate_replication() -> int:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException

        from lightbox.quality.gates import run_gate

        context = get_current_context()
        at = run_context.as_of(context)
        outcome = run_gate("replication", context["run_id"], at, error=AirflowFailException)
        return sum(not suite["success"] for suite in outcome.values())

    sync_region.expand(region=list_regions()) >> validate_replication()


replication_sync()
