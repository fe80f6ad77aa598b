-- Every schema of the warehouse. Each later file creates its own tables, idempotently
-- (create … if not exists), and is applied in file-name order by lightbox.db.apply_schema.
create schema if not exists raw;
create schema if not exists matching;
create schema if not exists licensing;
create schema if not exists infringement;
create schema if not exists exclusivity;
create schema if not exists settlement;
create schema if not exists replication;
create schema if not exists quality;
create schema if not exists marts;
