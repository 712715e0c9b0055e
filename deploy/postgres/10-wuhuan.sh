#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the read model's own role and database, beside
# Temporal's (temporalio/auto-setup creates `temporal` and `temporal_visibility` itself).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE wuhuan LOGIN PASSWORD '${WUHUAN_DB_PASSWORD:-wuhuan}';
CREATE DATABASE wuhuan OWNER wuhuan;
SQL
