-- Regional replication (replication_sync): what each regional mirror holds, and every change.
--
-- inventory: one row per object a region's store holds. A row is written only after its
-- object is in the store and verified (SHA-256), and removed before its object is deleted,
-- so the inventory never claims an object the store does not hold.
create table if not exists replication.inventory (
    region text not null,
    photo_id text not null,
    owner_id text,
    object_key text not null,
    sha256 text not null,
    size_bytes bigint not null,
    source_path text,
    replicated_at timestamptz not null,  -- when this object (this content) was written
    held_since timestamptz not null,  -- start of the region's continuous holding of the photo
    consent_event_id text,  -- the consent event the region holds the photo on
    run_id text not null,
    primary key (region, photo_id)
);

-- audit_log: every change to a region, in order (audit_id). action:
--   copy_started  written BEFORE an object is written (an interrupted copy stays explained)
--   copy          object written and verified; inventory row added or replaced
--   delete        inventory row removed; the object is deleted right after
--   repair        drift between the inventory and the store put right (reason drift_repaired)
-- direction: 'in' = the region holds the photo after this row, 'out' = it does not,
-- null = intent only. Replaying direction per (region, photo_id) gives the inventory.
create table if not exists replication.audit_log (
    audit_id bigserial primary key,
    at timestamptz not null,  -- the run's time (its data interval end / run_after)
    run_id text not null,
    region text not null,
    photo_id text not null,
    owner_id text,
    action text not null check (action in ('copy_started', 'copy', 'delete', 'repair')),
    reason text not null,
    direction text check (direction in ('in', 'out')),
    object_key text,
    sha256 text,
    consent_event_id text,
    detail text,
    recorded_at timestamptz not null default clock_timestamp()
);
create index if not exists audit_log_photo on replication.audit_log (photo_id, region, audit_id);
create index if not exists audit_log_run on replication.audit_log (run_id, region);

-- runs: one row per (run, region) with what the sync did and the photos it could not copy.
create table if not exists replication.runs (
    run_id text not null,
    region text not null,
    at timestamptz not null,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    status text not null default 'running' check (status in ('running', 'success', 'failed')),
    desired bigint,
    held bigint,
    copied bigint,
    deleted bigint,
    repaired bigint,
    errors jsonb not null default '[]',
    primary key (run_id, region)
);
