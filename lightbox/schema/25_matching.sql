-- The matching engine's catalogue hashes (lightbox.matching.catalog.sync_catalog).
-- One row per exclusive, not deleted photo that hashed; the in-memory CatalogIndex is
-- rebuilt from these rows (load_index). Photos whose image could not be hashed are in
-- hash_failures with the reason, until they hash or stop being eligible.
create table if not exists matching.photo_hashes (
    photo_id text primary key,
    sha256 text,
    image_path text not null,
    hash_version integer not null,
    quality numeric not null,
    is_matchable boolean not null,
    global_hash text not null,          -- 64-bit DCT hash of the whole photo, hex
    n_hashes integer not null,
    descriptor jsonb not null,          -- HashResult.to_record()
    hashed_at timestamptz not null default now()
);

create table if not exists matching.hash_failures (
    photo_id text primary key,
    sha256 text,
    image_path text,
    reason text not null,
    failed_at timestamptz not null default now()
);
