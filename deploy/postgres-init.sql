-- Creates the role OKRSignal connects as, and its database. The postgres image runs this once, as the
-- superuser, when its data volume is first initialised (see docker-compose.yml).
--
-- The role is neither superuser nor BYPASSRLS: row-level security, which keeps each organisation's rows
-- apart inside the database itself, does not apply to roles that are. It owns its database, so it can
-- run the migrations, and its tables are created with FORCE ROW LEVEL SECURITY so owning them does not
-- exempt it either.

\set ON_ERROR_STOP on

\getenv app_password OKRSIGNAL_DB_PASSWORD
\if :{?app_password}
\else
\set app_password ''
\endif
SELECT :'app_password' = '' AS app_password_missing \gset
\if :app_password_missing
DO $$ BEGIN RAISE EXCEPTION 'OKRSIGNAL_DB_PASSWORD must be set for the postgres service'; END $$;
\endif

CREATE ROLE okrsignal WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'app_password';
CREATE DATABASE okrsignal OWNER okrsignal;
