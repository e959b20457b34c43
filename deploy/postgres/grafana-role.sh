#!/bin/sh
# First start of the PostgreSQL container: the role Grafana reads with. The service grants it
# SELECT on the reporting tables after its migrations (FACILITY_READONLY_ROLE).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE grafana_ro LOGIN PASSWORD '${GRAFANA_DB_PASSWORD}';
GRANT CONNECT ON DATABASE ${POSTGRES_DB} TO grafana_ro;
GRANT USAGE ON SCHEMA public TO grafana_ro;
SQL
