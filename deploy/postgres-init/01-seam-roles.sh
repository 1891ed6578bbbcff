#!/bin/sh
# Runs once, when the PostgreSQL container starts with an empty data directory.
#
# Two roles, one database:
#   seam_owner  owns the database and every table; only `manage.py migrate` connects as it.
#   seam_app    what the web server and the workers connect as: owns nothing, is not a
#               superuser and cannot bypass row-level security, so the tenant policies
#               apply to every query it makes. migrate grants it DML on the tables.
set -eu

: "${SEAM_OWNER_DB_PASSWORD:?SEAM_OWNER_DB_PASSWORD must be set for the postgres service}"
: "${SEAM_APP_DB_PASSWORD:?SEAM_APP_DB_PASSWORD must be set for the postgres service}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$SEAM_OWNER_DB_PASSWORD" \
    -v app_password="$SEAM_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE seam_owner LOGIN NOSUPERUSER NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE seam_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
    PASSWORD :'app_password';
CREATE DATABASE seam OWNER seam_owner;
REVOKE ALL ON DATABASE seam FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE seam TO seam_owner, seam_app;
SQL
