#!/usr/bin/env bash
# Crash recovery: kill -9 the server in the middle of a large batch, restart
# it, resubmit. Nothing may be lost or stored twice, and the audit log must
# still verify. Runs on SQLite, and on PostgreSQL when CHENGXIN_TEST_POSTGRES_URL
# is set (scripts/test.sh sets it; CI requires it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
cargo build -q -p chengxin
bin="$root/target/debug/chengxin"

work=$(mktemp -d)
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill -9 "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf 'crash-recovery: %s\n' "$*" >&2; }

# A synthetic population with the unit column removed (the server knows the unit from the key).
"$bin" generate --residents 30000 --seed 11 --out "$work/pop.jsonl" --as-of 2026-11-01 2>/dev/null
python3 - "$work/pop.jsonl" "$work/batch.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for line in src:
        row = json.loads(line)
        del row["unit"]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
PY
rows=$(wc -l < "$work/batch.jsonl")

start_server() {
    : > "$work/server.log"
    "$bin" --db "$1" serve --listen 127.0.0.1:0 2> "$work/server.log" &
    server_pid=$!
    for _ in $(seq 1 200); do
        addr=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -n1 || true)
        [[ -n "$addr" ]] && return 0
        sleep 0.1
    done
    cat "$work/server.log" >&2
    return 1
}

submit() { # url key idempotency-key → receipt JSON
    curl -sS --max-time 600 -X POST "$1/api/v1/batches" \
        -H "Authorization: Bearer $2" -H 'Content-Type: application/x-ndjson' \
        ${3:+-H "Idempotency-Key: $3"} --data-binary @"$work/batch.jsonl"
}

# Resubmits while the killed request's lease on the batch has not lapsed
# (409 batch_in_progress with Retry-After), as a unit's client would.
submit_until_done() { # url key idempotency-key → receipt JSON
    local out
    for _ in $(seq 1 60); do
        out=$(submit "$@")
        if [[ $out != *'"batch_in_progress"'* ]]; then
            printf '%s' "$out"
            return 0
        fi
        sleep 1
    done
    say "FAIL: the batch stayed in progress"; return 1
}

field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

run() { # database URL
    local db=$1
    say "$db: $rows rows"
    key=$("$bin" --db "$db" unit add SX-ALL --name 演示单位 --items B01,B02,B03,B04,C01,P01,S01,O01,O02,O03,O04 --json | field key)

    start_server "$db"
    submit "$addr" "$key" crash-1 > "$work/first.json" 2>/dev/null &
    curl_pid=$!
    # Let part of the batch commit, then kill the server without warning.
    sleep 3
    kill -9 "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    wait "$curl_pid" 2>/dev/null || true
    server_pid=""
    say "killed the server mid-batch"

    start_server "$db"
    receipt=$(submit_until_done "$addr" "$key" crash-1)
    accepted=$(field accepted <<<"$receipt")
    duplicate=$(field duplicate <<<"$receipt")
    rejected=$(field rejected <<<"$receipt")
    say "resubmitted: accepted $accepted, duplicate $duplicate, rejected $rejected"
    if ((accepted + duplicate + rejected != rows)); then
        say "FAIL: the receipt does not account for every row"; exit 1
    fi
    if ((duplicate == 0)); then
        say "FAIL: nothing had been stored before the kill; the test did not interrupt a batch"; exit 1
    fi
    # Every row is now stored exactly once: a fresh submission finds only duplicates.
    again=$(submit "$addr" "$key" "")
    if [[ $(field duplicate <<<"$again") != $((rows - rejected)) || $(field accepted <<<"$again") != 0 ]]; then
        say "FAIL: resubmitting found missing or extra records: $again"; exit 1
    fi
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    "$bin" --db "$db" audit verify
}

(cd "$work" && run "sqlite://$work/crash.db")

if [[ -n "${CHENGXIN_TEST_POSTGRES_URL:-}" ]]; then
    name="chengxin_crash_$$"
    psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "CREATE DATABASE $name"
    trap 'psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true; cleanup' EXIT
    (cd "$work" && export CHENGXIN_DATA_KEY="$(python3 -c 'import os; print(os.urandom(32).hex())')" && run "${CHENGXIN_TEST_POSTGRES_URL%/*}/$name")
elif [[ "${CHENGXIN_REQUIRE_POSTGRES:-}" == 1 ]]; then
    say "FAIL: PostgreSQL required but CHENGXIN_TEST_POSTGRES_URL is not set"; exit 1
fi
say "passed"
