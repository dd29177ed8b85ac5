#!/usr/bin/env bash
# shellcheck shell=bash
#
# Make sure a local PostgreSQL server is running for the test suite and export
# CHENGXIN_TEST_POSTGRES_URL pointing at a database the tests may use.
#
# Usage:
#   . scripts/pg-test-env.sh                  # in bash: exports the variable into this shell
#   scripts/pg-test-env.sh cargo test ...     # runs the command with the variable set
#   eval "$(scripts/pg-test-env.sh)"          # prints an `export ...` line
#
# What it does (idempotent; safe to run repeatedly and concurrently):
#   1. If CHENGXIN_TEST_POSTGRES_URL is already set and reachable, keep it.
#   2. Otherwise, use the local Debian PostgreSQL (postgresql-common tooling):
#      install it with apt-get if missing (root only), create a cluster if none
#      exists, start it if it is down, wait until it accepts connections.
#   3. Create role `chengxin` (password `chengxin`, LOGIN CREATEDB) and database
#      `chengxin_test` owned by it.
#   URL: postgres://chengxin:chengxin@127.0.0.1:<port>/chengxin_test
#
# Tuning of the local cluster:
#   - max_connections is raised to at least 200 (needs one restart).
#   - Durability is switched off (fsync, full_page_writes, synchronous_commit)
#     when CI=true or CHENGXIN_PG_FAST=1. Set CHENGXIN_PG_FAST=0 to never do it.
#     Only do this on a throwaway cluster: a crash can corrupt its data.
#
# Needs root (or the postgres user, or passwordless sudo) for the server steps.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "pg-test-env: this script needs bash" >&2
    # shellcheck disable=SC2317  # `exit` is reached when executed, not sourced
    return 1 2>/dev/null || exit 1
fi

# ---------------------------------------------------------------------------
# Sourced: do the work in a separate, strict bash process and only export the
# result here, so the caller's shell options and variables stay untouched.
# ---------------------------------------------------------------------------
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    if _chengxin_pg_url="$(CHENGXIN_TEST_POSTGRES_URL="${CHENGXIN_TEST_POSTGRES_URL:-}" \
        bash "${BASH_SOURCE[0]}" --print-url)" && [[ "$_chengxin_pg_url" =~ ^postgres://[^[:space:]]+$ ]]; then
        export CHENGXIN_TEST_POSTGRES_URL="$_chengxin_pg_url"
        unset _chengxin_pg_url
        return 0
    fi
    unset _chengxin_pg_url
    echo "pg-test-env: FAILED to provide a PostgreSQL test database" >&2
    return 1
fi

# ---------------------------------------------------------------------------
# Executed.
# ---------------------------------------------------------------------------
set -euo pipefail

# Everything the server tooling prints (pg_ctlcluster says "Removed stale pid
# file." on stdout, apt-get and psql may too) goes to stderr; only the result
# below is written to the original stdout (kept as fd 3), so that
# `$(scripts/pg-test-env.sh --print-url)` captures exactly one URL.
exec 3>&1 1>&2

readonly PG_ROLE=chengxin
readonly PG_PASSWORD=chengxin
readonly PG_DB=chengxin_test
readonly MIN_MAX_CONNECTIONS=200
readonly WAIT_SECONDS=30

log() { printf 'pg-test-env: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

is_root() { [[ "$(id -u)" == 0 ]]; }

# Can we act as the `postgres` OS user?
can_admin() {
    [[ "$(id -un)" == postgres ]] || is_root \
        || { command -v sudo >/dev/null 2>&1 && sudo -n -u postgres true 2>/dev/null; }
}

# Run a command as the `postgres` OS user (PostgreSQL refuses to run as root).
as_postgres() {
    if [[ "$(id -un)" == postgres ]]; then
        (cd / && "$@")
    elif is_root && command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u postgres -- "$@")
    elif is_root; then
        (cd / && su -s /bin/bash postgres -c "$(printf '%q ' "$@")")
    elif command -v sudo >/dev/null 2>&1 && sudo -n -u postgres true 2>/dev/null; then
        (cd / && sudo -n -u postgres -- "$@")
    else
        die "need root (or the postgres user, or passwordless sudo) to run: $*"
    fi
}

# pg_ctlcluster/pg_createcluster: run directly as root (they drop privileges
# themselves), otherwise as the postgres user.
# fd 9 (our lock) is closed so that a server started here does not inherit it.
pg_admin() {
    if is_root; then "$@" 9>&- 3>&-; else as_postgres "$@" 9>&- 3>&-; fi
}

# psql as the database superuser over the cluster's Unix socket.
psql_super() {
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"
}

url_works() {
    local url=$1
    command -v pg_isready >/dev/null 2>&1 || return 1
    pg_isready -q -t 5 -d "$url" || return 1
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=5 psql -X -q -A -t -d "$url" -c 'select 1' >/dev/null 2>&1 || return 1
    fi
}

ensure_server_installed() {
    if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null \
        && command -v pg_lsclusters >/dev/null 2>&1; then
        return 0
    fi
    is_root || die "PostgreSQL server is not installed; run: sudo apt-get install postgresql"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL server is not installed and apt-get is unavailable"
    log "installing PostgreSQL with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null \
        || die "apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/postgres"
}

# Sets PG_VER, PG_CLUSTER, PG_PORT, PG_STATUS from pg_lsclusters.
# Preference: highest version; within it, a cluster named `main`.
read_cluster() {
    PG_VER='' PG_CLUSTER='' PG_PORT='' PG_STATUS=''
    local line
    line="$(pg_lsclusters --no-header 2>/dev/null \
        | awk '{ print $1, ($2 == "main" ? 1 : 0), $2, $3, $4 }' \
        | sort -k1,1V -k2,2n | tail -n 1)" || true
    [[ -n "$line" ]] || return 1
    read -r PG_VER _ PG_CLUSTER PG_PORT PG_STATUS <<<"$line"
}

ensure_cluster() {
    if ! read_cluster; then
        local ver bin
        ver="$(for bin in /usr/lib/postgresql/*/bin/postgres; do
            bin="${bin#/usr/lib/postgresql/}"
            printf '%s\n' "${bin%%/*}"
        done | sort -V | tail -n 1)"
        log "no PostgreSQL cluster found; creating $ver/main"
        pg_admin pg_createcluster "$ver" main >/dev/null
        read_cluster || die "pg_createcluster $ver main did not create a cluster"
    fi
    log "using cluster $PG_VER/$PG_CLUSTER on port $PG_PORT ($PG_STATUS)"
}

show_log_tail() {
    local logfile="/var/log/postgresql/postgresql-$PG_VER-$PG_CLUSTER.log"
    if [[ -r "$logfile" ]]; then
        log "last lines of $logfile:"
        tail -n 20 "$logfile" >&2 || true
    fi
}

wait_ready() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2; do
        if ((SECONDS >= deadline)); then
            show_log_tail
            die "PostgreSQL $PG_VER/$PG_CLUSTER is not accepting connections on 127.0.0.1:$PG_PORT after ${WAIT_SECONDS}s"
        fi
        sleep 0.5
    done
}

ensure_running() {
    if [[ "$PG_STATUS" != online* ]]; then
        log "starting cluster $PG_VER/$PG_CLUSTER"
        if ! pg_admin pg_ctlcluster "$PG_VER" "$PG_CLUSTER" start; then
            show_log_tail
            die "pg_ctlcluster $PG_VER $PG_CLUSTER start failed"
        fi
    fi
    wait_ready
}

restart_cluster() {
    log "restarting cluster $PG_VER/$PG_CLUSTER"
    if ! pg_admin pg_ctlcluster "$PG_VER" "$PG_CLUSTER" restart; then
        show_log_tail
        die "pg_ctlcluster $PG_VER $PG_CLUSTER restart failed"
    fi
    wait_ready
}

pg_setting() { psql_super -A -t -c "SHOW $1"; }

tune_cluster() {
    local need_restart=0 need_reload=0 fast=0 max_conn

    max_conn="$(pg_setting max_connections)"
    if ((max_conn < MIN_MAX_CONNECTIONS)); then
        log "raising max_connections to $MIN_MAX_CONNECTIONS"
        psql_super -c "ALTER SYSTEM SET max_connections = $MIN_MAX_CONNECTIONS"
        need_restart=1
    fi

    case "${CHENGXIN_PG_FAST:-}" in
    1 | true | yes) fast=1 ;;
    0 | false | no) fast=0 ;;
    *) [[ "${CI:-}" == true ]] && fast=1 ;;
    esac
    if ((fast)); then
        local name
        for name in fsync full_page_writes synchronous_commit; do
            if [[ "$(pg_setting "$name")" != off ]]; then
                log "test cluster speed-up: $name = off"
                psql_super -c "ALTER SYSTEM SET $name = off"
                need_reload=1
            fi
        done
    fi

    if ((need_restart)); then
        restart_cluster
    elif ((need_reload)); then
        psql_super -A -t -c 'SELECT pg_reload_conf()' >/dev/null
    fi
}

ensure_role_and_db() {
    log "ensuring role '$PG_ROLE' and database '$PG_DB'"
    psql_super <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$PG_ROLE') THEN
        CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
    ELSE
        ALTER ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
    END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_ROLE'
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '$PG_DB')
\gexec
ALTER DATABASE $PG_DB OWNER TO $PG_ROLE;
SQL
}

main() {
    local existing="${CHENGXIN_TEST_POSTGRES_URL:-}"
    if [[ -n "$existing" ]]; then
        if url_works "$existing"; then
            log "using existing CHENGXIN_TEST_POSTGRES_URL (reachable)"
            URL="$existing"
            return 0
        fi
        log "CHENGXIN_TEST_POSTGRES_URL is set but not reachable; setting up the local server instead"
    fi

    ensure_server_installed

    # Serialise concurrent runs (cluster creation, start, CREATE ROLE/DATABASE).
    local lock
    lock="${TMPDIR:-/tmp}/chengxin-pg-test-env.$(id -u).lock"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$lock"
        flock -w 120 9 || die "timed out waiting for lock $lock"
    fi

    ensure_cluster
    URL="postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"

    if ! can_admin; then
        # Unprivileged user: fine as long as someone already set things up.
        if [[ "$PG_STATUS" == online* ]] && url_works "$URL"; then
            log "not privileged; using the existing server/role/database as they are"
            log "ready: $URL"
            return 0
        fi
        die "PostgreSQL needs setting up, which needs root: run once 'sudo scripts/pg-test-env.sh'"
    fi

    ensure_running
    tune_cluster
    ensure_role_and_db

    url_works "$URL" || die "cannot connect to $URL"
    log "ready: $URL"
}

URL=''
print_url=0
if [[ "${1:-}" == --print-url ]]; then
    print_url=1
    shift
fi

main
exec 9>&- # release the lock (if taken) before handing over

[[ "$URL" =~ ^postgres://[^[:space:]]+$ ]] || die "internal error: not a URL: '$URL'"

if ((print_url)); then
    printf '%s\n' "$URL" >&3
elif (($#)); then
    export CHENGXIN_TEST_POSTGRES_URL="$URL"
    exec 1>&3 3>&- "$@"
else
    printf 'export CHENGXIN_TEST_POSTGRES_URL=%q\n' "$URL" >&3
fi
