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
