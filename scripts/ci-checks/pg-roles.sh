#!/usr/bin/env bash
# The README's PostgreSQL role setup, exercised: an owner role creates the
# schema; the service runs as `chengxin_app`, which owns nothing. The service
# works (an import, an audited read, `audit verify`), and it cannot change
# the audit log: UPDATE, DELETE and TRUNCATE of `audit_log` and
# `key_binding` are refused, and so is dropping the triggers that guard them.
# Needs the local cluster scripts/pg-test-env.sh prepares, and root or the
# postgres user to create the role.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

say() { printf 'pg-roles: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# shellcheck source-path=SCRIPTDIR source=../pg-test-env.sh
. scripts/pg-test-env.sh >/dev/null
owner_url=$CHENGXIN_TEST_POSTGRES_URL
base=${owner_url%/*}
hostport=${base#*@}
db=chengxin_roles
as_postgres() { su postgres -c "psql -q -v ON_ERROR_STOP=1 $*"; }

cargo build -q -p chengxin
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/debug/chengxin"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CHENGXIN_AUDIT_KEY_FILE="$work/audit.key"
CHENGXIN_DATA_KEY=$(python3 -c 'import os; print(os.urandom(32).hex())')
export CHENGXIN_DATA_KEY

psql -q "$owner_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
as_postgres "-c \"DROP ROLE IF EXISTS chengxin_app\" -c \"CREATE ROLE chengxin_app LOGIN PASSWORD 'app'\""

# The owner creates the schema (migrations) with a first import.
"$bin" --db "$base/$db?sslmode=disable" generate --residents 50 --seed 7 --out "$work/p.jsonl" --as-of 2026-11-01 >/dev/null
"$bin" --db "$base/$db?sslmode=disable" --actor owner import "$work/p.jsonl" --as-of 2026-11-01 >/dev/null

# The README's grants, verbatim but for the database name.
psql -q -v ON_ERROR_STOP=1 "$base/$db" <<SQL
GRANT CONNECT ON DATABASE $db TO chengxin_app;
GRANT USAGE ON SCHEMA public TO chengxin_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO chengxin_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO chengxin_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, key_binding FROM chengxin_app;
SQL

app_url="postgres://chengxin_app:app@$hostport/$db?sslmode=disable"
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id_number"])' "$work/p.jsonl")
"$bin" --db "$app_url" --actor app score "$id" >/dev/null || fail "the service role cannot read a score"
"$bin" --db "$app_url" --actor app import "$work/p.jsonl" --as-of 2026-11-01 >/dev/null || fail "the service role cannot import"
"$bin" --db "$app_url" --actor app audit verify >/dev/null || fail "audit verify as the service role"

refused() {
    if psql -q "postgres://chengxin_app:app@$hostport/$db" -c "$1" >/dev/null 2>&1; then
        fail "the service role may: $1"
    fi
    say "refused as it should be: $1"
}
# The role can connect and read the log (so a refusal below is a refusal).
psql -q -v ON_ERROR_STOP=1 "postgres://chengxin_app:app@$hostport/$db" -c "SELECT count(*) FROM audit_log" >/dev/null ||
    fail "the service role cannot read the audit log"
refused "UPDATE audit_log SET actor = 'x' WHERE seq = 1"
refused "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"
refused "TRUNCATE audit_log"
refused "UPDATE key_binding SET key_id = key_id"
refused "DELETE FROM key_binding"
for trig in $(psql -tA "$base/$db" -c "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"); do
    refused "DROP TRIGGER $trig ON audit_log"
done
"$bin" --db "$app_url" --actor app audit verify >/dev/null || fail "audit verify after the refusals"
psql -q "$owner_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
as_postgres "-c \"DROP ROLE IF EXISTS chengxin_app\""
say "passed: the service role works and cannot change the audit log"
