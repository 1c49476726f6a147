#!/usr/bin/env bash
# Install (if needed) and start a local PostgreSQL with a role and database for the tests.
# Prints the DATABASE_URL to use on its last line.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^${version} main"; then
  pg_createcluster "${version}" main >/dev/null
fi
pg_ctlcluster "${version}" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL' >/dev/null
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'onurix') THEN
    CREATE ROLE onurix LOGIN PASSWORD 'onurix' CREATEDB;
  END IF;
END $$;
SQL
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'onurix'\"" | grep -q 1 \
  || su postgres -c "createdb -O onurix onurix"
echo "postgres://onurix:onurix@127.0.0.1:5432/onurix"
