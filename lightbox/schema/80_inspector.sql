-- The inspector app (lightbox/inspector): accounts, sign-in sessions, the access paths of
-- claiming, and the least-privilege role the app runs as. Idempotent: runs on every apply.

create table if not exists licensing.inspectors (
    inspector_id text primary key check (inspector_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    password_hash text not null,  -- argon2id, PHC string
    is_disabled boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- One row per signed-in browser or API client. Only a SHA-256 of the cookie's token is
-- stored, so a read of this table does not hand out sessions.
create table if not exists licensing.inspector_sessions (
    session_hash text primary key,
    inspector_id text not null references licensing.inspectors (inspector_id) on delete cascade,
    csrf_token text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index if not exists inspector_sessions_inspector on licensing.inspector_sessions (inspector_id);

-- Claims are few (at most one live claim per inspector): this small partial index finds an
-- inspector's claim and the expired claims without touching the pending rows.
create index if not exists review_queue_claimed
    on licensing.review_queue (claimed_by, claimed_at) where status = 'claimed';
create index if not exists decisions_inspector on licensing.decisions (inspector_id, decided_at desc);
create index if not exists decisions_photo on licensing.decisions (photo_id);

-- The app's database role: it reads the queue, the scores and the photo metadata, updates the
-- queue, appends decisions, and manages sign-in sessions; nothing else. NOLOGIN here: the app
-- either connects with its own URL (LIGHTBOX_INSPECTOR_DATABASE_URL, as a login role that is
-- a member of inspector_app) or runs `set role inspector_app` on the configured connection.
-- Roles are cluster-wide, so a concurrent apply on another database may create it first.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'inspector_app') then
        create role inspector_app nologin;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

grant usage on schema licensing, raw to inspector_app;
grant select on licensing.review_queue, licensing.scores, licensing.decisions to inspector_app;
grant select on raw.photos, raw.users, raw.inspections to inspector_app;
grant update (status, claimed_by, claimed_at, decision, decision_reason, decided_at)
    on licensing.review_queue to inspector_app;
grant insert on licensing.decisions to inspector_app;
grant usage on sequence licensing.decisions_decision_id_seq to inspector_app;
grant select on licensing.inspectors to inspector_app;
grant select, insert, delete on licensing.inspector_sessions to inspector_app;
