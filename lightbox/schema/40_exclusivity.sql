-- The exclusivity audit: exclusive photos also offered on other stock sites.
create table if not exists exclusivity.violations (
    violation_id bigserial primary key,
    photo_id text not null,
    site text not null,
    listing_id text,
    listing_url text not null,
    image_url text,
    contributor text,
    distance numeric not null,
    method text,
    detected_at timestamptz not null,
    status text not null default 'open' check (status in ('open', 'confirmed', 'dismissed')),
    evidence_uri text,
    listing_predates_upload boolean,
    decided_by text,
    decided_at timestamptz,
    decision_note text,
    unique (photo_id, site, listing_url)
);

-- A photo is on exclusivity hold while it has an open or confirmed violation: its matches
-- become exclusivity_hold and no case is opened or pursued for it.
create or replace view exclusivity.holds as
select photo_id, min(detected_at) as held_since, count(*) as violations
from exclusivity.violations
where status in ('open', 'confirmed')
group by photo_id;

-- Added by the exclusivity audit (lightbox/exclusivity). Idempotent: runs on every apply.
alter table exclusivity.violations add column if not exists listing_predates_exclusive boolean;
alter table exclusivity.violations add column if not exists listed_at timestamptz;
alter table exclusivity.violations add column if not exists last_seen_at timestamptz;
alter table exclusivity.violations add column if not exists image_sha256 text;
alter table exclusivity.violations add column if not exists transform text;

-- Every listing an audit looked at (one partition per audit, keyed by the DAG's data
-- interval end), and what came of it.
create table if not exists exclusivity.listing_checks (
    as_of timestamptz not null,
    site text not null,
    listing_id text not null,
    source text not null,
    listing_url text,
    image_url text not null,
    contributor text,
    title text,
    listed_at timestamptz,
    status text not null default 'pending'
        check (status in ('pending', 'no_match', 'violation', 'infringement', 'held', 'fetch_error', 'bad_image')),
    reason text,
    image_sha256 text,
    photo_id text,
    distance numeric,
    method text,
    checked_at timestamptz,
    primary key (as_of, site, listing_id)
);

-- Feed problems (unreachable feed, broken JSON, missing fields, duplicate ids) per audit.
create table if not exists exclusivity.feed_errors (
    error_id bigserial primary key,
    as_of timestamptz not null,
    site text not null,
    source_url text,
    listing_id text,
    kind text not null,
    reason text not null,
    detail jsonb not null default '{}'
);
create index if not exists feed_errors_as_of on exclusivity.feed_errors (as_of, site);

-- Each time a photo goes on exclusivity hold or comes off it, with what was paused.
create table if not exists exclusivity.hold_events (
    event_id bigserial primary key,
    photo_id text not null,
    event text not null check (event in ('placed', 'lifted')),
    at timestamptz not null,
    violation_ids bigint[] not null default '{}',
    paused_cases jsonb not null default '{}',
    detail jsonb not null default '{}'
);
create index if not exists hold_events_photo on exclusivity.hold_events (photo_id, event_id);

-- Messages to photographers, for a notifier to send (and mark sent_at).
create table if not exists exclusivity.notification_outbox (
    notification_id bigserial primary key,
    recipient_user_id text not null,
    kind text not null,
    photo_id text,
    hold_event_id bigint,
    subject text not null,
    body text not null,
    payload jsonb not null default '{}',
    created_at timestamptz not null,
    sent_at timestamptz,
    unique (kind, hold_event_id)
);

-- One row per audit: the report a person reads.
create table if not exists exclusivity.audit_reports (
    as_of timestamptz primary key,
    report jsonb not null,
    report_uri text,
    written_at timestamptz not null
);
