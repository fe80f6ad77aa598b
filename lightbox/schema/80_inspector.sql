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

-- The app's database roles. inspector_app (NOLOGIN) holds the app's privileges; the app
-- logs in as lightbox_inspector, a member of it (never as a superuser: `reset role` would
-- give the superuser back). `lightbox db start` sets lightbox_inspector's password from
-- LIGHTBOX_INSPECTOR_DB_PASSWORD. What the app may do (docs/security.md):
--   read the queue, the scores, the decisions and the photo metadata;
--   claim, release and decide only as the inspector of the session it presents
--     (row-level security, with licensing.current_inspector());
--   sign in, look up and end sessions only through the functions below, which check the
--     password (its hash never leaves the database) and the session.
-- Roles are cluster-wide, so a concurrent apply on another database may create them first.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'inspector_app') then
        create role inspector_app nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'lightbox_inspector') then
        create role lightbox_inspector login nosuperuser nocreatedb nocreaterole noreplication nobypassrls;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;
grant inspector_app to lightbox_inspector;

-- What older versions granted, taken back: the password hashes, and direct writes of sessions.
revoke all on licensing.inspectors, licensing.inspector_sessions from inspector_app;
revoke all on licensing.review_queue, licensing.decisions from inspector_app;

grant usage on schema licensing, raw to inspector_app;
grant select on licensing.review_queue, licensing.scores, licensing.decisions to inspector_app;
grant select on raw.photos, raw.users, raw.inspections to inspector_app;
-- the photo page shows exclusivity by the one rule (licensing.photo_exclusivity), which reads
-- support's changes and the owner's version at upload
grant select on licensing.photo_exclusivity, licensing.photo_owner_at_upload, licensing.exclusivity_changes,
    raw.users_history to inspector_app;
grant update (status, claimed_by, claimed_at, decision, decision_reason, decided_at)
    on licensing.review_queue to inspector_app;
grant insert on licensing.decisions to inspector_app;
grant usage on sequence licensing.decisions_decision_id_seq to inspector_app;

-- The inspector whose session the app presents (set_config('lightbox.session', <sha256 of
-- the cookie's token>)): null without a live session of an enabled inspector. The app cannot
-- read session hashes, so it can present only sessions whose cookies it was sent.
create or replace function licensing.current_inspector() returns text
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select s.inspector_id
      from licensing.inspector_sessions s
      join licensing.inspectors i on i.inspector_id = s.inspector_id
     where s.session_hash = nullif(current_setting('lightbox.session', true), '')
       and s.expires_at > now() and not i.is_disabled
$$;

-- Sign-in, step 1: the argon2 parameters and salt of an enabled inspector's hash (the PHC
-- string without its last field) and the hash's length; null for anyone else.
create or replace function licensing.inspector_hash_params(p_name text, out params text, out hash_chars int)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select regexp_replace(password_hash, '\$[^$]*$', ''), length(substring(password_hash from '[^$]*$'))
      from licensing.inspectors where inspector_id = p_name and not is_disabled
$$;

-- Sign-in, step 2: the app hashed the password with those parameters; the session is
-- created only when that hash is the stored one.
create or replace function licensing.inspector_sign_in(
    p_name text, p_candidate text, p_session_hash text, p_csrf text, p_hours float8) returns boolean
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    if p_candidate is null or not exists (
        select 1 from licensing.inspectors
         where inspector_id = p_name and not is_disabled and password_hash = p_candidate) then
        return false;
    end if;
    -- ended sessions are cleaned up here, a sign-in being rare next to requests
    delete from licensing.inspector_sessions where expires_at < now();
    insert into licensing.inspector_sessions (session_hash, inspector_id, csrf_token, expires_at)
    values (p_session_hash, p_name, p_csrf, now() + least(greatest(p_hours, 0.01), 24 * 30) * interval '1 hour');
    return true;
end
$$;

create or replace function licensing.inspector_session(p_session_hash text, out inspector_id text, out csrf_token text)
returns setof record
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select s.inspector_id, s.csrf_token
      from licensing.inspector_sessions s
      join licensing.inspectors i on i.inspector_id = s.inspector_id
     where s.session_hash = p_session_hash and s.expires_at > now() and not i.is_disabled
$$;

create or replace function licensing.inspector_sign_out(p_session_hash text) returns void
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
    delete from licensing.inspector_sessions where session_hash = p_session_hash
$$;

revoke all on function licensing.current_inspector(), licensing.inspector_hash_params(text),
    licensing.inspector_sign_in(text, text, text, text, float8), licensing.inspector_session(text),
    licensing.inspector_sign_out(text) from public;
grant execute on function licensing.current_inspector(), licensing.inspector_hash_params(text),
    licensing.inspector_sign_in(text, text, text, text, float8), licensing.inspector_session(text),
    licensing.inspector_sign_out(text) to inspector_app;

-- Row-level security: the app writes claims and decisions only under the name of the session
-- it presents. The tables' owner (the pipeline, the CLI) is not subject to it.
alter table licensing.review_queue enable row level security;
alter table licensing.decisions enable row level security;
drop policy if exists app_read on licensing.review_queue;
create policy app_read on licensing.review_queue for select to inspector_app using (true);
drop policy if exists app_claim on licensing.review_queue;
-- a decided row is final; a row may be given back (claimed_by null) or taken by the session's inspector
create policy app_claim on licensing.review_queue for update to inspector_app
    using (status <> 'decided')
    with check (claimed_by is null or claimed_by = licensing.current_inspector());
drop policy if exists app_read on licensing.decisions;
create policy app_read on licensing.decisions for select to inspector_app using (true);
drop policy if exists app_decide on licensing.decisions;
create policy app_decide on licensing.decisions for insert to inspector_app
    with check (inspector_id = licensing.current_inspector());
