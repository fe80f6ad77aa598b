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
