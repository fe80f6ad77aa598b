-- The AI scan (licensing_train_model, licensing_score_submissions) and the inspectors' queue.
create table if not exists licensing.model_versions (
    version text primary key,
    trained_at timestamptz not null,
    metrics jsonb not null default '{}',
    is_champion boolean not null default false,
    artifact_uri text not null,
    report_uri text,
    promoted_at timestamptz,
    notes text
);
create unique index if not exists model_versions_one_champion
    on licensing.model_versions (is_champion) where is_champion;

create table if not exists licensing.scores (
    photo_id text not null,
    model_version text not null,
    p_suitable numeric not null check (p_suitable between 0 and 1),
    p_sale numeric not null check (p_sale between 0 and 1),
    decision text not null check (decision in ('under_review', 'changes_required', 'not_suitable', 'removed')),
    reasons jsonb not null default '[]',
    scored_at timestamptz not null,
    primary key (photo_id, model_version)
);

create table if not exists licensing.review_queue (
    photo_id text primary key,
    priority numeric not null,
    status text not null default 'pending' check (status in ('pending', 'claimed', 'decided')),
    claimed_by text,
    claimed_at timestamptz,
    decision text check (decision in ('accepted', 'rejected', 'changes_required')),
    decision_reason text,
    decided_at timestamptz,
    model_version text,
    enqueued_at timestamptz not null default now()
);
create index if not exists review_queue_pending on licensing.review_queue (priority desc) where status = 'pending';

-- Every inspector decision (from the inspector app); training labels with raw.inspections.
create table if not exists licensing.decisions (
    decision_id bigserial primary key,
    photo_id text not null,
    inspector_id text not null,
    decision text not null check (decision in ('accepted', 'rejected', 'changes_required')),
    reason text,
    decided_at timestamptz not null
);

-- ---------------------------------------------------------------------------------------
-- Added by the AI scan (ml/): caches, failures a person can see, promotions and the
-- exclusivity trail. Idempotent; nothing above is renamed.

-- Pixel features per photo (computing them is the costly part of a scan); recomputed when
-- the photo's image_path changes.
create table if not exists licensing.pixel_features (
    photo_id text primary key,
    image_path text,
    features jsonb not null default '{}',
    error text,
    computed_at timestamptz not null default now()
);

-- Photos the scan could not score (no owner on record, …): listed here with the reason,
-- retried on every run until they score; resolved_at is set when they finally do.
create table if not exists licensing.scan_failures (
    photo_id text primary key,
    reason text not null,
    first_failed_at timestamptz not null,
    last_scan_at timestamptz not null,
    resolved_at timestamptz
);

-- Every change of the champion (train-time promotion, `lightbox models promote|rollback`).
create table if not exists licensing.model_promotions (
    promotion_id bigserial primary key,
    version text not null,
    previous_version text,
    promoted_at timestamptz not null default now(),
    promoted_by text not null,
    reason text
);

-- Customer support's exclusivity changes (`lightbox photos set-exclusive`): who, why, when.
create table if not exists licensing.exclusivity_changes (
    change_id bigserial primary key,
    photo_id text not null,
    exclusive boolean not null,
    previous_exclusive boolean,
    changed_by text not null,
    reason text not null,
    changed_at timestamptz not null default now()
);
create index if not exists exclusivity_changes_photo on licensing.exclusivity_changes (photo_id, changed_at desc);

-- The user's version in force when each photo was uploaded (auto licensing, default
-- exclusivity), from raw.users_history: "was this user opted in at upload?"
create or replace view licensing.photo_owner_at_upload as
select
    p.photo_id,
    p.owner_id,
    p.uploaded_at,
    h.auto_licensing as auto_licensing_at_upload,
    h.default_exclusive as default_exclusive_at_upload
from raw.photos as p
left join lateral (
    select uh.auto_licensing, uh.default_exclusive
    from raw.users_history as uh
    where uh.user_id = p.owner_id and uh.updated_at <= p.uploaded_at
    order by uh.updated_at desc, uh._file_id desc, uh._line desc
    limit 1
) as h on true;

-- THE exclusivity rule (shared/DESIGN.md), written once: a photo is exclusive at time
-- ``as_of`` by support's latest change made by then, else the photo's own flag, else the
-- owner's default_exclusive in force when the photo was uploaded, else not. Every reader
-- (matching catalogue, sweep, audit, replication, where-is, quality, dbt) goes through
-- this function or the view below, never through raw.photos.exclusive or
-- raw.users.default_exclusive. A plain SQL function: the planner inlines it, so filters
-- on photo_id reach the tables.
create or replace function licensing.photo_exclusivity_at(as_of timestamptz)
returns table (
    photo_id text,
    owner_id text,
    is_exclusive boolean,
    exclusive_source text,
    submitted_by_hand boolean,
    auto_submitted boolean,
    changed_by text,
    change_reason text,
    changed_at timestamptz
)
language sql stable
as $$
select
    p.photo_id,
    p.owner_id,
    coalesce(c.exclusive, p.exclusive, ou.default_exclusive_at_upload, false) as is_exclusive,
    case
        when c.exclusive is not null then 'support_change'
        when p.exclusive is not null then 'photo'
        when ou.default_exclusive_at_upload is not null then 'owner_default'
        else 'none'
    end as exclusive_source,
    coalesce(p.submitted_for_licensing, false) as submitted_by_hand,
    coalesce(ou.auto_licensing_at_upload, false) as auto_submitted,
    c.changed_by,
    c.reason as change_reason,
    c.changed_at
from raw.photos as p
left join licensing.photo_owner_at_upload as ou on ou.photo_id = p.photo_id
left join lateral (
    select ec.exclusive, ec.changed_by, ec.reason, ec.changed_at
    from licensing.exclusivity_changes as ec
    where ec.photo_id = p.photo_id and ec.changed_at <= as_of
    order by ec.changed_at desc, ec.change_id desc
    limit 1
) as c on true
$$;

-- Every photo's exclusivity now (what a run sees when it starts): the rule above at
-- 'infinity', so a support change counts from the moment it is recorded.
create or replace view licensing.photo_exclusivity as
select * from licensing.photo_exclusivity_at('infinity'::timestamptz);
