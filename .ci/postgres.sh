#!/usr/bin/env bash
# Start a local PostgreSQL server for the metadata-store tests (run as root on Debian).
# Installs the Debian package if missing, creates and starts a cluster, gives the role
# `agentpack` a fresh password and the right to create databases (each test run creates
# its own random database and drops it afterwards).
#
# Prints one line on stdout, for `eval "$(bash .ci/postgres.sh)"`:
#   export AGENTPACK_TEST_DATABASE_URL=postgres://agentpack:<password>@127.0.0.1:<port>/postgres
# Everything else goes to stderr.
set -euo pipefail

log() { echo "ci/postgres: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
  log "creating cluster $version/main"
  pg_createcluster "$version" main >&2
fi
if ! pg_ctlcluster "$version" main status >/dev/null 2>&1; then
  log "starting cluster $version/main"
  pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')

for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "server on port $port is not ready"; exit 1; }

password=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agentpack') THEN
    CREATE ROLE agentpack LOGIN CREATEDB;
  END IF;
END
\$\$;
ALTER ROLE agentpack LOGIN CREATEDB PASSWORD '$password';
-- DROP DATABASE ... WITH (FORCE) must be able to end an autovacuum worker in a test database.
GRANT pg_signal_backend TO agentpack;
SQL

log "ready on 127.0.0.1:$port"
echo "export AGENTPACK_TEST_DATABASE_URL=postgres://agentpack:${password}@127.0.0.1:${port}/postgres"
