-- Least-privilege roles for the people and programs that read the warehouse. Roles are
-- cluster-wide in PostgreSQL: created once, granted per database. Idempotent.
--   finance_reader  reads the finance marts only (dbt grants select on each finance mart)
--   auditor         reads the marts, quality results and the audit trails
--   lightbox_pipeline  the pipeline's own role: reads and writes every Lightbox schema
-- (inspector_app, the inspector app's role, is created in 80_inspector.sql.)
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'finance_reader') then
        create role finance_reader nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'auditor') then
        create role auditor nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'lightbox_pipeline') then
        create role lightbox_pipeline nologin;
    end if;
exception when unique_violation or duplicate_object then
    null;  -- another database of the same server created it at the same moment
end
$$;

-- Nobody but the owner creates objects in public.
revoke create on schema public from public;

grant usage on schema marts to finance_reader, auditor;

grant usage on schema quality, replication, settlement, exclusivity, infringement to auditor;
grant select on all tables in schema quality, replication, settlement, exclusivity to auditor;
grant select on infringement.cases, infringement.matches to auditor;
alter default privileges in schema quality, replication, settlement, exclusivity grant select on tables to auditor;

grant usage, create on schema raw, matching, licensing, infringement, exclusivity, settlement, replication,
    quality, marts to lightbox_pipeline;
grant select, insert, update, delete on all tables in schema raw, matching, licensing, infringement,
    exclusivity, replication, quality, marts to lightbox_pipeline;
grant select, insert on all tables in schema settlement to lightbox_pipeline;
grant usage on all sequences in schema raw, matching, licensing, infringement, exclusivity, settlement,
    replication, quality to lightbox_pipeline;
-- The queue and the decisions have row-level security for the inspector app (80_inspector.sql);
-- the pipeline's role sees and writes every row.
drop policy if exists pipeline_all on licensing.review_queue;
create policy pipeline_all on licensing.review_queue for all to lightbox_pipeline using (true) with check (true);
drop policy if exists pipeline_all on licensing.decisions;
create policy pipeline_all on licensing.decisions for all to lightbox_pipeline using (true) with check (true);
