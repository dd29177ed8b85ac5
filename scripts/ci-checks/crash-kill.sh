#!/usr/bin/env bash
# Crash safety: kill the process at chosen points and check that recovery
# loses nothing, stores nothing twice, keeps the audit log valid and leaves
# no stale score.
#
# The kills come from fail points in the code (crates/jobs/src/failpoint.rs):
# CHENGXIN_FAILPOINT=<point>:<n> makes the process abort (like kill -9) the
# n-th time it reaches <point>. A calibration run with CHENGXIN_FAILPOINT=count
# learns how often each workload reaches each point; every kill run then picks
# a random point and a random n in that range, checks that the process really
# died by SIGABRT at that point, recovers as an operator or a unit would, and
# verifies the database:
#   lost        input cases (unit, source_id) not stored
#   duplicated  cases stored more than once (extra versions, cases not in the input)
#   stale       marks left for rescoring after recovery, plus scores that a
#               `recompute --changed-only` and then a full `recompute` change
#   audit       `chengxin audit verify` failed
#
# Workloads: `import` (the CLI imports a file in small chunks; recovery re-runs
# the same import) and `batch` (a unit POSTs the file to `chengxin serve` with
# an Idempotency-Key; recovery restarts the server and resubmits under the same
# key, waiting out 409 batch_in_progress per Retry-After).
# Backends: SQLite, and PostgreSQL when CHENGXIN_TEST_POSTGRES_URL is set
# (required when CHENGXIN_REQUIRE_POSTGRES=1).
#
#   scripts/ci-checks/crash-kill.sh [--runs K] [--residents N] [--seed S]
#                                   [--release | --bin PATH] [--backends sqlite,postgres]
#                                   [--workloads import,batch] [--corrections N]
#
# K kill runs per backend and workload (default 20, or CHENGXIN_CRASH_RUNS);
# --release builds and uses the release binary; --bin uses a given binary
# (or CHENGXIN_CRASH_BIN). --seed fixes the input and the sequence of kills.
# --corrections N adds N corrections (a second version of a case, later in the
# same file) to the input. Every row carries its unit's `source_version` (1,
# and 2 for a correction), so recovering by re-running the whole input
# reports the replayed first versions `stale` instead of storing them again.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

runs=${CHENGXIN_CRASH_RUNS:-20}
residents=${CHENGXIN_CRASH_RESIDENTS:-1000}
seed=${CHENGXIN_CRASH_SEED:-$((($(date +%s) + $$) % 1000000))}
bin=${CHENGXIN_CRASH_BIN:-}
profile=debug
backends=sqlite,postgres
workloads=import,batch
corrections=${CHENGXIN_CRASH_CORRECTIONS:-0}
while (($#)); do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --residents) residents=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --release) profile=release; shift ;;
    --backends) backends=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --corrections) corrections=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "crash-kill: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

say() { printf 'crash-kill: %s\n' "$*" >&2; }

if [[ -z "$bin" ]]; then
    if [[ $profile == release ]]; then
        cargo build -q --release -p chengxin
    else
        cargo build -q -p chengxin
    fi
    target_dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    bin="$target_dir/$profile/chengxin"
fi
bin=$(realpath "$bin")

# Nothing below may inherit an armed fail point by accident.
unset CHENGXIN_FAILPOINT
# The kill runs abort on purpose: no core files.
ulimit -c 0
# A killed request's lease lapses after this long (the default is 15 s).
export CHENGXIN_BATCH_LEASE_SECONDS=1
export CHENGXIN_LOG=warn

pg=""
if [[ -n "${CHENGXIN_TEST_POSTGRES_URL:-}" ]]; then
    pg=$CHENGXIN_TEST_POSTGRES_URL
elif [[ "${CHENGXIN_REQUIRE_POSTGRES:-}" == 1 && $backends == *postgres* ]]; then
    say "FAIL: PostgreSQL required but CHENGXIN_TEST_POSTGRES_URL is not set"
    exit 1
fi

work=$(mktemp -d)
server_pid=""
wrapper_pid=""
pg_dbs=()
cleanup() {
    if [[ -n "$server_pid" ]]; then kill -9 "$server_pid" 2>/dev/null || true; fi
    wait # for the databases being dropped
    for name in "${pg_dbs[@]}"; do drop_pg "$name" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

as_of=2026-11-01
# The server scores a batch as of the city's today.
today=$(TZ=Asia/Shanghai date +%F)
unit=SX-ALL
items=B01,B02,B03,B04,C01,P01,S01,O01,O02,O03,O04

"$bin" generate --residents "$residents" --seed "$seed" --out "$work/pop.jsonl" --as-of "$as_of" 2>/dev/null
# The batch body: the same rows without the unit column (the server knows the
# unit from the key). With --corrections, some B03 rows get a second version
# (`active` flipped) further down the file. The expected cases of each
# workload: how many versions, and the fields of the newest.
python3 - "$work" "$unit" "$corrections" "$seed" <<'PY'
import json, random, sys
work, unit, corrections, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(line) for line in open(f"{work}/pop.jsonl")]
rng = random.Random(seed)
b03 = [i for i, r in enumerate(rows) if r["item"] == "B03" and isinstance(r["fields"].get("active"), bool)]
later = []
for i in sorted(rng.sample(b03, min(corrections, len(b03)))):
    fixed = json.loads(json.dumps(rows[i]))
    fixed["fields"]["active"] = not fixed["fields"]["active"]
    fixed["source_version"] = 2
    later.append((rng.randint(i + 1, len(rows)), fixed))
for row in rows:
    row["source_version"] = 1
for at, fixed in sorted(later, key=lambda x: -x[0]):
    rows.insert(at, fixed)
expect = {"import": {}, "batch": {}}
with open(f"{work}/input.jsonl", "w") as imp, open(f"{work}/batch.jsonl", "w") as out:
    for row in rows:
        imp.write(json.dumps(row, ensure_ascii=False) + "\n")
        for workload, u in (("import", row["unit"]), ("batch", unit)):
            n, _ = expect[workload].get(f"{u}\t{row['source_id']}", (0, None))
            expect[workload][f"{u}\t{row['source_id']}"] = (n + 1, row["fields"])
        del row["unit"]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
for workload, cases in expect.items():
    json.dump(cases, open(f"{work}/expect-{workload}.json", "w"), ensure_ascii=False)
PY
rows=$(wc -l <"$work/input.jsonl")
# Small chunks, so that an import has several units of work to be killed in.
import_chunk=$(((rows + 9) / 10))

# ----------------------------------------------------------------------------
# Databases

db_seq=0
template=""
new_db() { # backend → sets $db to a fresh, empty database URL
    db_seq=$((db_seq + 1))
    if [[ $1 == sqlite ]]; then
        db="sqlite://$work/db$db_seq.sqlite"
    else
        local name="chengxin_crashk_$$_$db_seq"
        # Copying a migrated template is quicker than migrating every time.
        local i
        for i in $(seq 1 20); do
            psql -q "$pg" -c "CREATE DATABASE $name${template:+ TEMPLATE $template}" >/dev/null 2>&1 && break
            if ((i == 20)); then psql -q "$pg" -c "CREATE DATABASE $name${template:+ TEMPLATE $template}"; fi
            sleep 0.2 # the template's last user may not be gone yet
        done
        pg_dbs+=("$name")
        db="${pg%/*}/$name"
    fi
}

make_template() { # backend: a migrated, empty PostgreSQL database to copy
    [[ $1 == postgres && -z "$template" ]] || return 0
    new_db postgres
    "$bin" --db "$db" model list >/dev/null
    template=${db##*/}
}

drop_db() { # backend URL
    if [[ $1 == sqlite ]]; then
        local file=${2#sqlite://}
        rm -f "$file" "$file"-wal "$file"-shm "$file".key
    else
        local name=${2##*/}
        # In the background: dropping takes a while, and nothing waits for it
        # but the end of the script.
        drop_pg "$name" &
        local kept=()
        for n in "${pg_dbs[@]}"; do [[ $n == "$name" ]] || kept+=("$n"); done
        pg_dbs=("${kept[@]}")
    fi
}

drop_pg() { # name
    local i
    # A plain DROP also stops autovacuum there (WITH (FORCE) may not, as a
    # non-superuser); the killed process's backends take a moment to go.
    for i in $(seq 1 50); do
        psql -q "$pg" -c "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    psql -q "$pg" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
}

query() { # backend URL SQL → rows, tab-separated
    if [[ $1 == sqlite ]]; then
        python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):
    print("\t".join(str(v) for v in r))' "${2#sqlite://}" "$3"
    else
        psql -X -q -At -F $'\t' "$2" -c "$3"
    fi
}

# ----------------------------------------------------------------------------
# Workloads. Each takes: backend, db URL, fail point spec ("" for none, or
# count), log file. It runs the workload once and returns the exit status of
# the process that carries the fail point.

run_import() { # backend db failpoint log
    local st=0
    { CHENGXIN_FAILPOINT=$3 "$bin" --db "$2" import "$work/input.jsonl" --chunk "$import_chunk" \
        --as-of "$as_of" >"$4.out" 2>>"$4"; } 2>>"$4" || st=$?
    return "$st"
}

start_server() { # db failpoint log
    : >"$3"
    # Through a subshell that waits for the server, so that bash reports an
    # abort as an exit status rather than an "Aborted" line on the terminal.
    (
        CHENGXIN_FAILPOINT=$2 "$bin" --db "$1" serve --listen 127.0.0.1:0 &
        echo $! >"$work/server.pid"
        wait $!
    ) 2>>"$3" &
    wrapper_pid=$!
    server_pid=""
    while [[ -z "$server_pid" ]]; do
        server_pid=$(cat "$work/server.pid" 2>/dev/null || true)
        [[ -n "$server_pid" ]] || sleep 0.01
    done
    rm -f "$work/server.pid"
    local i
    for i in $(seq 1 300); do
        addr=$(grep -o 'http://[0-9.:]*' "$3" | head -n1 || true)
        [[ -n "$addr" ]] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    say "the server did not start:"; cat "$3" >&2
    return 1
}

stop_server() { # → exit status of the server
    local st=0
    kill "$server_pid" 2>/dev/null || true
    wait "$wrapper_pid" || st=$?
    server_pid=""
    return "$st"
}

post_batch() { # key-file → HTTP status; body in $work/resp, headers in $work/headers
    curl -sS --max-time 300 -o "$work/resp" -D "$work/headers" -w '%{http_code}' \
        -X POST "$addr/api/v1/batches" -H "Authorization: Bearer $(cat "$1")" \
        -H 'Content-Type: application/x-ndjson' -H 'Idempotency-Key: crash-1' \
        --data-binary @"$work/batch.jsonl" 2>/dev/null || true
}

prepare_batch() { # db → writes the unit's key to $work/key
    "$bin" --db "$1" unit add "$unit" --name 演示单位 --items "$items" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])' >"$work/key"
}

run_batch() { # backend db failpoint log: one submission to a server carrying the fail point
    local st=0
    start_server "$2" "$3" "$4"
    post_batch "$work/key" >"$work/code"
    if [[ -z "$3" || $3 == count ]]; then
        stop_server || st=$?
    else
        # The server must die on its own; if it does not within 60 s, it is
        # killed here and the run counts as no confirmed kill.
        local i
        for i in $(seq 1 600); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$wrapper_pid" || st=$?
        server_pid=""
    fi
    return "$st"
}

# Resubmits under the same key until the receipt comes, waiting Retry-After
# seconds on 409 batch_in_progress, as a unit's client would.
recover_batch() { # db log → 0 when a complete receipt accounting for every row came back
    local code wait_s i
    start_server "$1" "" "$2"
    for i in $(seq 1 120); do
        code=$(post_batch "$work/key")
        if [[ $code == 409 ]] && grep -q batch_in_progress "$work/resp"; then
            wait_s=$(grep -i '^retry-after:' "$work/headers" | tr -dc '0-9')
            sleep "${wait_s:-1}"
            continue
        fi
        break
    done
    stop_server >/dev/null 2>&1 || true
    if [[ $code != 200 && $code != 201 ]]; then
        say "resubmission answered $code: $(head -c 300 "$work/resp")"
        return 1
    fi
    python3 - "$work/resp" "$rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = r["accepted"] + r["duplicate"] + r["corrected"] + r.get("stale", 0) + r["rejected"]
if r["status"] != "completed" or n != int(sys.argv[2]):
    print(f"crash-kill: receipt {r['status']} accounts for {n} of {sys.argv[2]} rows", file=sys.stderr)
    sys.exit(1)
PY
}

# ----------------------------------------------------------------------------
# Verification: sets $lost $dup $stale $audit_bad for one database.

verify() { # backend db workload date log
    local backend=$1 db=$2 workload=$3 date=$4 log=$5
    query "$backend" "$db" "SELECT unit, source_id, version, fields FROM records" >"$work/stored"
    read -r lost dup < <(python3 - "$work/expect-$workload.json" "$work/stored" <<'PY'
import json, re, sys
def norm(v):  # the store writes decimals without trailing zeros
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, str) and re.fullmatch(r"-?\d+\.\d+", v):
        return v.rstrip("0").rstrip(".")
    return v
expect = json.load(open(sys.argv[1]))
stored = {}
for line in open(sys.argv[2]):
    u, s, v, fields = line.rstrip("\n").split("\t", 3)
    stored.setdefault(f"{u}\t{s}", []).append((int(v), json.loads(fields)))
# Lost: a case missing, or its newest version is not the input's newest.
lost = sum(1 for k, (_, fields) in expect.items() if k not in stored or norm(max(stored[k], key=lambda x: x[0])[1]) != norm(fields))
# Duplicated: versions beyond the input's, and cases not in the input.
dup = sum(max(0, len(vs) - expect[k][0]) if k in expect else len(vs) for k, vs in stored.items())
print(lost, dup)
PY
    )
    audit_bad=0
    "$bin" --db "$db" audit verify >>"$log" 2>&1 || audit_bad=1
    # Nothing may be left marked for rescoring, and the scores stored must be
    # those a full recompute gives.
    local marked changed_only changed
    marked=$(query "$backend" "$db" "SELECT count(*) FROM rescore")
    "$bin" --db "$db" recompute --changed-only --as-of "$date" >"$work/recompute" 2>>"$log" || true
    cat "$work/recompute" >>"$log"
    changed_only=$(sed -n 's/.*(\([0-9]*\) scores changed).*/\1/p' "$work/recompute")
    local left
    left=$(query "$backend" "$db" "SELECT count(*) FROM rescore")
    "$bin" --db "$db" recompute --as-of "$date" >"$work/recompute" 2>>"$log" || true
    cat "$work/recompute" >>"$log"
    changed=$(sed -n 's/.*(\([0-9]*\) scores changed).*/\1/p' "$work/recompute")
    local unscored
    unscored=$(query "$backend" "$db" \
        "SELECT count(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.person_id = p.id)")
    if [[ -z "$changed_only" || -z "$changed" ]]; then
        say "recompute printed no count (see $log)"
        changed_only=${changed_only:-1} changed=${changed:-1}
    fi
    stale=$((marked + changed_only + left + changed + unscored))
    if ((stale)); then
        say "stale: $marked marked after recovery, $changed_only changed by recompute --changed-only," \
            "$left still marked, $changed changed by a full recompute, $unscored people without a score"
    fi
}

# ----------------------------------------------------------------------------
# Calibration and kill runs.

failed=0
declare -A hits

calibrate() { # backend workload
    local backend=$1 workload=$2 log="$work/calibrate.log" st=0
    new_db "$backend"
    : >"$log"
    if [[ $workload == batch ]]; then
        prepare_batch "$db"
        run_batch "$backend" "$db" count "$log" || st=$?
        if [[ $(cat "$work/code") != 201 && $(cat "$work/code") != 200 ]]; then
            say "calibration: the batch answered $(cat "$work/code")"; cat "$work/resp" >&2; return 1
        fi
    else
        run_import "$backend" "$db" count "$log" || st=$?
    fi
    if ((st)); then say "calibration run failed ($st):"; cat "$log" >&2; return 1; fi
    local p
    for p in commit.before commit.after chunk.read; do
        hits[$p]=$(grep -c "^failpoint: $p [0-9]*$" "$log" || true)
    done
    drop_db "$backend" "$db"
}

points=(commit.before commit.after chunk.read)

kill_runs() { # backend workload
    local backend=$1 workload=$2
    local kills=0 t_lost=0 t_dup=0 t_stale=0 t_audit=0 t_unrecovered=0 i
    local start=$SECONDS
    make_template "$backend"
    calibrate "$backend" "$workload" || { failed=1; return; }
    say "$backend/$workload: $rows rows; hits per run: commit.before ${hits[commit.before]}," \
        "commit.after ${hits[commit.after]}, chunk.read ${hits[chunk.read]}"
    for ((i = 1; i <= runs; i++)); do
        local point n st=0 log="$work/run.log" date=$as_of
        point=${points[RANDOM % ${#points[@]}]}
        if ((hits[$point] == 0)); then point=commit.before; fi
        n=$((RANDOM % hits[$point] + 1))
        new_db "$backend"
        : >"$log"
        if [[ $workload == batch ]]; then
            date=$today
            prepare_batch "$db"
            run_batch "$backend" "$db" "$point:$n" "$log" || st=$?
        else
            run_import "$backend" "$db" "$point:$n" "$log" || st=$?
        fi
        if ((st == 134)) && grep -q "^failpoint: $point:$n reached, aborting" "$log"; then
            kills=$((kills + 1))
        else
            say "run $i ($point:$n): the process did not die at the fail point (status $st)"
            failed=1
        fi
        local recovered=0
        if [[ $workload == batch ]]; then
            recover_batch "$db" "$log" || recovered=$?
        else
            run_import "$backend" "$db" "" "$log" || recovered=$?
        fi
        if ((recovered)); then
            say "run $i ($point:$n): recovery failed"; tail -n 5 "$log" >&2
            t_unrecovered=$((t_unrecovered + 1))
        fi
        verify "$backend" "$db" "$workload" "$date" "$log"
        t_lost=$((t_lost + lost)) t_dup=$((t_dup + dup)) t_stale=$((t_stale + stale)) t_audit=$((t_audit + audit_bad))
        if ((lost + dup + stale + audit_bad + recovered)); then
            say "FAIL $backend/$workload seed $seed run $i, $point:$n: lost $lost, duplicated $dup," \
                "stale $stale, audit $( ((audit_bad)) && echo broken || echo ok)"
            failed=1
        fi
        drop_db "$backend" "$db"
    done
    printf 'crash-kill: %-8s %-6s runs %d, kills confirmed %d, lost %d, duplicated %d, stale %d, audit failures %d, recoveries failed %d (%d s)\n' \
        "$backend" "$workload" "$runs" "$kills" "$t_lost" "$t_dup" "$t_stale" "$t_audit" "$t_unrecovered" \
        $((SECONDS - start)) >&2
    total_runs=$((total_runs + runs)) total_kills=$((total_kills + kills))
    total_lost=$((total_lost + t_lost)) total_dup=$((total_dup + t_dup)) total_stale=$((total_stale + t_stale))
}

cd "$work"
# The audit checkpoint key, kept apart from the databases (created for the first one).
export CHENGXIN_AUDIT_KEY_FILE="$work/audit.key"
RANDOM=$seed
total_runs=0 total_kills=0 total_lost=0 total_dup=0 total_stale=0
say "seed $seed, $runs runs per backend and workload, $(basename "$(dirname "$bin")") binary"
IFS=, read -ra backend_list <<<"$backends"
IFS=, read -ra workload_list <<<"$workloads"
for backend in "${backend_list[@]}"; do
    if [[ $backend == postgres ]]; then
        if [[ -z "$pg" ]]; then say "PostgreSQL skipped: CHENGXIN_TEST_POSTGRES_URL is not set"; continue; fi
        CHENGXIN_DATA_KEY=$(python3 -c 'import os; print(os.urandom(32).hex())')
        export CHENGXIN_DATA_KEY
    fi
    for workload in "${workload_list[@]}"; do
        kill_runs "$backend" "$workload"
    done
done
wait # for the databases being dropped
if [[ -n "$pg" ]]; then
    for name in "${pg_dbs[@]}"; do drop_pg "$name"; done
    pg_dbs=()
    left=$(psql -X -At "$pg" -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'chengxin_crashk_$$\_%'")
    if ((left)); then say "FAIL: $left test databases could not be dropped"; failed=1; fi
fi
say "total: runs $total_runs, lost $total_lost, duplicated $total_dup, stale $total_stale in $SECONDS s"
if ((failed)); then
    say "FAILED (seed $seed)"
    exit 1
fi
say "passed"
