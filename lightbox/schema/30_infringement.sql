-- The infringement sweep: crawl results, matches, cases and what partners read.
create table if not exists infringement.matches (
    match_id bigserial primary key,
    photo_id text not null,
    page_url text not null,
    image_url text not null,
    distance numeric not null,
    method text not null,
    transform text,
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    evidence_uri text,
    status text not null check (status in ('case', 'licensed', 'exclusivity_hold', 'dismissed', 'own_domain')),
    infringer_domain text,
    case_id text,
    unique (photo_id, page_url, image_url)
);

create table if not exists infringement.cases (
    case_id text primary key,
    photo_id text not null,
    owner_id text,
    infringer_domain text not null,
    opened_at timestamptz not null,
    status text not null default 'open'
        check (status in ('open', 'sent_to_partner', 'settled', 'paused', 'dismissed', 'closed')),
    status_reason text,
    status_changed_at timestamptz,
    evidence_uri text,
    unique (photo_id, infringer_domain)
);

-- Added columns of the sweep (idempotent).
alter table infringement.matches add column if not exists details jsonb;
alter table infringement.matches add column if not exists sweep_id text;
alter table infringement.cases add column if not exists last_seen_at timestamptz;
alter table infringement.cases add column if not exists sightings integer not null default 0;

-- One row per sweep (a DAG run's data interval end): shards, progress and the report.
create table if not exists infringement.sweeps (
    sweep_id text primary key,
    as_of timestamptz not null,
    n_shards integer not null default 1,
    started_at timestamptz,
    finished_at timestamptz,
    report jsonb,
    report_uri text
);

-- The frontier: every URL a sweep will fetch or has fetched, pages and images. A rerun of the
-- same sweep takes the pending rows and leaves the fetched ones.
create table if not exists infringement.crawl_frontier (
    sweep_id text not null,
    url text not null,
    kind text not null check (kind in ('page', 'image')),
    host text not null,
    site text not null,           -- registrable domain of the seed the URL came from
    shard_key text not null,      -- registrable domain of the URL's own host (one shard per key)
    shard integer not null default 0,
    seed_url text not null,
    depth integer not null default 0,
    max_depth integer not null default 0,
    priority integer not null default 0,
    source text not null,         -- seed, photographer_report, link, image
    reported_by text,
    discovered_from text,
    status text not null default 'pending' check (status in ('pending', 'fetched', 'failed', 'skipped')),
    attempts integer not null default 0,
    not_before timestamptz,       -- a transient failure waits for this before its next attempt
    last_error text,
    http_status integer,
    fetched_at timestamptz,
    final_url text,
    resolved_ip text,
    content_sha256 text,
    body_uri text,                -- stored body (pages with matched or deferred images; matched images)
    headers jsonb,
    primary key (sweep_id, url)
);
alter table infringement.crawl_frontier add column if not exists not_before timestamptz;
create index if not exists crawl_frontier_work on infringement.crawl_frontier (sweep_id, shard, status);

-- Which page showed which image (and how it was found).
create table if not exists infringement.crawl_image_refs (
    sweep_id text not null,
    page_url text not null,
    image_url text not null,
    found_by text,
    primary key (sweep_id, page_url, image_url)
);

-- Images of a sweep that matched a catalogue photo, before the licence and hold checks.
create table if not exists infringement.image_matches (
    sweep_id text not null,
    image_url text not null,
    photo_id text not null,
    distance numeric not null,
    method text not null,
    transform text,
    details jsonb,
    primary key (sweep_id, image_url, photo_id)
);

-- What the enforcement partners read: one message per new case or status change.
create table if not exists infringement.partner_outbox (
    message_id bigserial primary key,
    dedupe_key text not null unique,
    case_id text not null,
    event text not null check (event in ('case_opened', 'status_changed')),
    status text not null,
    reason text,
    photo_id text not null,
    owner_id text,
    infringer_domain text not null,
    evidence_uri text,
    payload jsonb not null,
    created_at timestamptz not null,
    delivered_at timestamptz,
    delivered_to text
);
create index if not exists partner_outbox_undelivered on infringement.partner_outbox (message_id) where delivered_at is null;

-- What a photographer sees of their cases (through the marketplace).
create or replace view infringement.photographer_cases as
select
    c.owner_id as photographer_id,
    c.case_id,
    c.photo_id,
    p.title as photo_title,
    c.infringer_domain,
    c.status,
    c.status_reason,
    c.opened_at,
    c.last_seen_at,
    c.status_changed_at,
    (select count(*) from infringement.matches m where m.case_id = c.case_id) as pages_found,
    c.evidence_uri
from infringement.cases c
left join raw.photos p on p.photo_id = c.photo_id;
