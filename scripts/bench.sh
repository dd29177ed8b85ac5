#!/usr/bin/env bash
# Reproduces the figures in BENCHMARKS.md. Slow (tens of minutes) and needs a
# quiet machine: run it alone. Sections: engine | import | recompute | daily | http | push | reads | me | all.
#   scripts/bench.sh all
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-all}
residents=${RESIDENTS:-1000000}
data=bench-data
mkdir -p "$data"
# The audit checkpoint key, kept apart from the databases (created for the first new one).
export CHENGXIN_AUDIT_KEY_FILE="${CHENGXIN_AUDIT_KEY_FILE:-$PWD/$data/audit.key}"
cargo build -q --release -p chengxin -p chengxin-jobs --bins --examples
bin=target/release/chengxin
timed() { /usr/bin/time -f "  wall %e s, peak RSS %M KB, user %U s, sys %S s" "$@"; }
say() { printf '\n== %s\n' "$*"; }

if [[ $what == engine || $what == all ]]; then
    say "(a) engine, one core"
    target/release/examples/engine_bench 200000
fi

if [[ ! -f $data/pop.jsonl ]]; then
    $bin generate --residents "$residents" --seed 1 --out "$data/pop.jsonl" --as-of 2026-11-01
fi
rows=$(wc -l < "$data/pop.jsonl")

if [[ $what == import || $what == all ]]; then
    say "(b) import of $residents residents ($rows rows) into SQLite, rescoring included"
    rm -f "$data"/bench.db*
    timed $bin --db "sqlite://$data/bench.db" import "$data/pop.jsonl" --as-of 2026-11-01
fi

if [[ $what == recompute || $what == all ]]; then
    say "(c) full recompute of $residents residents on SQLite"
    [[ -f $data/bench.db ]] || $bin --db "sqlite://$data/bench.db" import "$data/pop.jsonl" --as-of 2026-11-01 >/dev/null
    timed $bin --db "sqlite://$data/bench.db" recompute --as-of 2026-11-02
    timed $bin --db "sqlite://$data/bench.db" recompute --as-of 2026-11-03
    say "(c) the same on PostgreSQL"
    . scripts/pg-test-env.sh
    pg="${CHENGXIN_TEST_POSTGRES_URL%/*}/chengxin_bench"
    psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS chengxin_bench WITH (FORCE)" -c "CREATE DATABASE chengxin_bench"
    export CHENGXIN_DATA_KEY=0000000000000000000000000000000000000000000000000000000000000001
    echo "  import (setup):"
    timed $bin --db "$pg" import "$data/pop.jsonl" --as-of 2026-11-01
    timed $bin --db "$pg" recompute --as-of 2026-11-02
    timed $bin --db "$pg" recompute --as-of 2026-11-03
fi

if [[ $what == daily || $what == all ]]; then
    # The people whose records enter or leave a counting window on the next
    # day (publicity ends, terms end, evaluations age out), against everyone.
    for backend in sqlite postgres; do
        if [[ $backend == sqlite ]]; then
            rm -f "$data"/daily.db*; db="sqlite://$data/daily.db"
        else
            . scripts/pg-test-env.sh
            psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS chengxin_daily WITH (FORCE)" -c "CREATE DATABASE chengxin_daily"
            db="${CHENGXIN_TEST_POSTGRES_URL%/*}/chengxin_daily"; export CHENGXIN_DATA_KEY=0000000000000000000000000000000000000000000000000000000000000003
        fi
        say "(d) daily run on $residents residents ($backend), against a full recompute"
        $bin --db "$db" import "$data/pop.jsonl" --as-of 2026-11-01 >/dev/null
        $bin --db "$db" daily --as-of 2026-11-01 --json   # the last run: nobody is due yet
        echo "  daily --as-of 2026-11-02 (persons touched, rescored, changed, seconds):"
        timed $bin --db "$db" daily --as-of 2026-11-02 --json
        echo "  full recompute --as-of 2026-11-02:"
        timed $bin --db "$db" recompute --as-of 2026-11-02
    done
fi

if [[ $what == http || $what == all ]]; then
    say "HTTP: batch ingest, single-push latency at 500 requests/s"
    python3 - "$data/pop.jsonl" "$data/batch.jsonl" "$data/ids.txt" <<'PY'
import json, sys
n = 0
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out, open(sys.argv[3], "w") as ids:
    seen = set()
    for line in src:
        row = json.loads(line)
        del row["unit"]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        if row["id_number"] not in seen and len(seen) < 50000:
            seen.add(row["id_number"]); ids.write(row["id_number"] + "\n")
        n += 1
        if n >= 400000:
            break
PY
    for backend in sqlite postgres; do
        if [[ $backend == sqlite ]]; then
            rm -f "$data"/http.db*; db="sqlite://$data/http.db"
        else
            . scripts/pg-test-env.sh
            psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS chengxin_http WITH (FORCE)" -c "CREATE DATABASE chengxin_http"
            db="${CHENGXIN_TEST_POSTGRES_URL%/*}/chengxin_http?sslmode=disable"; export CHENGXIN_DATA_KEY=0000000000000000000000000000000000000000000000000000000000000002
        fi
        key=$($bin --db "$db" unit add BENCH --name 基准测试 --items B01,B02,B03,B04,C01,P01,S01,O01,O02,O03,O04 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
        $bin --db "$db" serve --listen 127.0.0.1:18181 2>/dev/null & pid=$!
        sleep 2
        echo "  $backend: batch of $(wc -l < "$data/batch.jsonl") rows ($(du -h "$data/batch.jsonl" | cut -f1)):"
        /usr/bin/time -f "  wall %e s" curl -sS -o "$data/receipt.json" -X POST http://127.0.0.1:18181/api/v1/batches \
            -H "Authorization: Bearer $key" -H 'Content-Type: application/x-ndjson' \
            -H "Idempotency-Key: bench-$backend-$$" --data-binary @"$data/batch.jsonl"
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  receipt:", {k: r[k] for k in ("accepted","duplicate","rejected")})' "$data/receipt.json"
        echo "  $backend: single pushes at 500/s for 20 s from a second process:"
        target/release/examples/push_load 127.0.0.1:18181 "$key" "$data/ids.txt" 500 20 32
        kill $pid; wait $pid 2>/dev/null || true
    done
fi

# Issue 6: single pushes at the highest rate each backend sustains with 32
# clients, and explanations read with and without an audit entry, SQLite and
# PostgreSQL in the same run, on a 50,000-resident database each.
if [[ $what == push || $what == reads || $what == all ]]; then
    if [[ ! -f $data/p50k.jsonl ]]; then
        $bin generate --residents 50000 --seed 3 --out "$data/p50k.jsonl" --as-of 2026-11-01
    fi
    python3 - "$data/p50k.jsonl" "$data/ids50k.txt" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    seen.setdefault(json.loads(line)["id_number"], None)
open(sys.argv[2], "w").write("\n".join(seen) + "\n")
PY
    head -2000 "$data/ids50k.txt" > "$data/ids2k.txt"
    . scripts/pg-test-env.sh
    for backend in sqlite postgres; do
        if [[ $backend == sqlite ]]; then
            rm -f "$data"/push.db*; db="sqlite://$data/push.db"; unset CHENGXIN_DATA_KEY
        else
            psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS chengxin_push WITH (FORCE)" -c "CREATE DATABASE chengxin_push"
            db="${CHENGXIN_TEST_POSTGRES_URL%/*}/chengxin_push?sslmode=disable"; export CHENGXIN_DATA_KEY=0000000000000000000000000000000000000000000000000000000000000003
        fi
        $bin --db "$db" import "$data/p50k.jsonl" --as-of 2026-11-01 >/dev/null
        if [[ $what != reads ]]; then
            key=$($bin --db "$db" unit add BENCH --name 基准测试 --items B01,B02,B03,B04,C01,P01,S01,O01,O02,O03,O04 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
            $bin --db "$db" serve --listen 127.0.0.1:18181 2>/dev/null & pid=$!
            sleep 2
            say "$backend: single pushes, 4000/s offered for 15 s over 32 connections"
            target/release/examples/push_load 127.0.0.1:18181 "$key" "$data/ids50k.txt" 4000 15 32
            kill $pid; wait $pid 2>/dev/null || true
        fi
        if [[ $what != push ]]; then
            say "$backend: explanations read by 32 threads, without and with an audit entry"
            target/release/examples/read_bench "$db" "$data/ids2k.txt" 32 10
        fi
    done
fi

# Issue 8 (and issue 6, item 5): GET /api/v1/me/score with every read audited,
# 32 connections, beside a bare axum handler and the same read without its
# audit entry, all in one server process and one run; then the same read
# through `chengxin serve` itself. SQLite and PostgreSQL, 50,000 residents.
if [[ $what == me || $what == all ]]; then
    if [[ ! -f $data/p50k.jsonl ]]; then
        $bin generate --residents 50000 --seed 3 --out "$data/p50k.jsonl" --as-of 2026-11-01
    fi
    python3 - "$data/p50k.jsonl" "$data/ids50k.txt" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    seen.setdefault(json.loads(line)["id_number"], None)
open(sys.argv[2], "w").write("\n".join(seen) + "\n")
PY
    . scripts/pg-test-env.sh
    for backend in sqlite postgres; do
        if [[ $backend == sqlite ]]; then
            rm -f "$data"/me.db*; db="sqlite://$data/me.db"; unset CHENGXIN_DATA_KEY
        else
            psql -q "$CHENGXIN_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS chengxin_me WITH (FORCE)" -c "CREATE DATABASE chengxin_me"
            db="${CHENGXIN_TEST_POSTGRES_URL%/*}/chengxin_me?sslmode=disable"; export CHENGXIN_DATA_KEY=0000000000000000000000000000000000000000000000000000000000000004
        fi
        $bin --db "$db" import "$data/p50k.jsonl" --as-of 2026-11-01 >/dev/null
        rm -f "$data/tokens.txt" "$data/tokens.txt.party"
        target/release/examples/read_bench_server "$db" 127.0.0.1:18182 "$data/ids50k.txt" "$data/tokens.txt" 2000 2>/dev/null & pid=$!
        for _ in $(seq 600); do [[ -s $data/tokens.txt.party ]] && curl -sf -o /dev/null http://127.0.0.1:18182/api/v1/health && break; sleep 0.2; done
        say "$backend: 32 connections, 15 s each, one server process"
        # /portal: the resident's score page (the same audited read, rendered as HTML).
        for path in /bench/bare /bench/me/score-unaudited /api/v1/me/score /portal; do
            target/release/examples/read_load 127.0.0.1:18182 "$path" "$data/tokens.txt" 15 32
        done
        # A party's answers under 2,000 redeemed score authorisations: each
        # request checks the consent, counts the use and audits it.
        target/release/examples/read_load 127.0.0.1:18182 '/api/v1/party/authorisations/{id}/result' "$data/tokens.txt.party" 15 32
        kill $pid; wait $pid 2>/dev/null || true
        $bin --db "$db" serve --demo --listen 127.0.0.1:18183 2>/dev/null & pid=$!
        for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:18183/api/v1/health && break; sleep 0.2; done
        head -500 "$data/ids50k.txt" | while read -r id; do
            curl -s -X POST http://127.0.0.1:18183/demo-idp/token -d grant_type=urn:chengxin:demo -d "id_number=$id" |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["id_token"])'
        done > "$data/serve-tokens.txt"
        say "$backend: chengxin serve --demo, GET /api/v1/me/score, 32 connections, 15 s"
        target/release/examples/read_load 127.0.0.1:18183 /api/v1/me/score "$data/serve-tokens.txt" 15 32
        kill $pid; wait $pid 2>/dev/null || true
    done
fi
