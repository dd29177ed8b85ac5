#!/usr/bin/env bash
# API fuzzing: schemathesis 4 generates requests from /api/v1/openapi.json and
# runs every check against a real server on a fresh SQLite database, then on
# PostgreSQL when CHENGXIN_TEST_POSTGRES_URL is set (scripts/test.sh sets it).
# A request the document calls valid must be accepted, an invalid one refused,
# every answer must match the document, and no request may cause a server
# error. scripts/ci-checks/schemathesis-hooks.py teaches it what JSON Schema
# can only name (the ID number check character, the JSON Lines media types).
#
# schemathesis comes from PyPI into a virtual environment under the cargo
# target directory (reused while its version stays 4.x). No network, no
# schemathesis, no pass: an unreachable PyPI fails this check.
#
#   SCHEMATHESIS_MAX_EXAMPLES   test cases per operation and phase (default 100)
#   SCHEMATHESIS_SEED           replay a run (the seed is printed on failure)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)

say() { printf 'schemathesis: %s\n' "$*" >&2; }
started=$SECONDS

cargo build -q -p chengxin
target=$(cargo metadata --no-deps --format-version 1 |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target/debug/chengxin"

venv="$target/schemathesis-venv"
st="$venv/bin/schemathesis"
if ! "$st" --version 2>/dev/null | grep -q 'version 4\.'; then
    say "installing schemathesis 4 from PyPI into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv"; then
        say "FAIL: cannot create a Python virtual environment (install python3-venv)"
        exit 1
    fi
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'; then
        rm -rf "$venv"
        say "FAIL: cannot install schemathesis from PyPI (is https://pypi.org reachable?)"
        exit 1
    fi
fi
say "$("$st" --version)"

work=$(mktemp -d)
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

items=$(python3 -c 'import tomllib, sys; print(",".join(i["code"] for i in tomllib.load(open(sys.argv[1], "rb"))["items"]))' \
    crates/domain/data/catalogue/2026.1.toml)

fuzz() { # database URL
    local db=$1 addr="" status=0
    local key
    key=$("$bin" --db "$db" unit add SX-FUZZ --name 模糊测试单位 --items "$items" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')

    "$bin" --db "$db" serve --listen 127.0.0.1:0 2> "$work/server.log" &
    server_pid=$!
    for _ in $(seq 1 200); do
        addr=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -n1 || true)
        [[ -n "$addr" ]] && break
        sleep 0.1
    done
    if [[ -z "$addr" ]]; then
        cat "$work/server.log" >&2
        say "FAIL: the server did not start"
        exit 1
    fi

    local args=(
        run "$addr/api/v1/openapi.json"
        --checks all
        --header "Authorization: Bearer $key"
        --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}"
        --request-timeout 30
        --generation-database none
        --no-color
    )
    [[ -n "${SCHEMATHESIS_SEED:-}" ]] && args+=(--seed "$SCHEMATHESIS_SEED")

    say "${db%%:*}: fuzzing $addr/api/v1 as unit SX-FUZZ (items $items)"
    (cd "$work" && SCHEMATHESIS_HOOKS="$root/scripts/ci-checks/schemathesis-hooks.py" \
        timeout 600 "$st" "${args[@]}") > "$work/run.log" 2>&1 || status=$?
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""

    # The parts that matter: failures and errors in full, then the summary.
    sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,/^=* \(WARNINGS\|SUMMARY\) =*$/p' "$work/run.log" |
        sed '$d' >&2
    sed -n '/^=* SUMMARY =*$/,$p' "$work/run.log" >&2
    if ! grep -q '^=* SUMMARY =*$' "$work/run.log"; then
        tail -n 40 "$work/run.log" >&2
    fi
    if ((status != 0)); then
        say "FAIL: schemathesis exited with $status on ${db%%:*} (server log follows)"
        tail -n 20 "$work/server.log" >&2
        exit 1
    fi
    if grep -Eq '[0-9]+ (failures?|errors?)' <(tail -n 1 "$work/run.log"); then
        say "FAIL: the run on ${db%%:*} reported failures or errors"
        exit 1
    fi
}

# The audit checkpoint key, kept apart from the databases (created for the first one).
export CHENGXIN_AUDIT_KEY_FILE="$work/audit.key"
fuzz "sqlite://$work/fuzz.db"

if [[ -n "${CHENGXIN_TEST_POSTGRES_URL:-}" ]]; then
    name="chengxin_fuzz_$$"
    psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "CREATE DATABASE $name"
    trap 'psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true; cleanup' EXIT
    CHENGXIN_DATA_KEY="$(python3 -c 'import os; print(os.urandom(32).hex())')"
    export CHENGXIN_DATA_KEY
    fuzz "${CHENGXIN_TEST_POSTGRES_URL%/*}/$name"
elif [[ "${CHENGXIN_REQUIRE_POSTGRES:-}" == 1 ]]; then
    say "FAIL: PostgreSQL required but CHENGXIN_TEST_POSTGRES_URL is not set"
    exit 1
fi
say "passed in $((SECONDS - started)) s"
