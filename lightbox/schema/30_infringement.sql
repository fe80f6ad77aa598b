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
