#!/usr/bin/env bash
# Run the whole Chengxin test suite, including the PostgreSQL tests.
#
#   scripts/test.sh                       # everything (this is what CI runs)
#   scripts/test.sh -p chengxin-domain    # extra arguments go to `cargo test`
#   scripts/test.sh some_test_name -- --nocapture
#
# A local PostgreSQL server is started/prepared by scripts/pg-test-env.sh, and
# CHENGXIN_REQUIRE_POSTGRES=1 makes the PostgreSQL tests fail (not skip) if the
# database is unavailable. scripts/browser-test-env.sh installs Chromium for
# the browser tests (and with CI=true sets CHENGXIN_REQUIRE_BROWSER=1, so they
# fail rather than skip without it).
#
# Without arguments this runs: all targets of the workspace, the doc tests, and
# then every scripts/ci-checks/*.sh in name order. With arguments it runs only
# `cargo test` with them (plus doc tests unless you choose targets yourself);
# --workspace / --all-targets are added unless you select packages / targets.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi

step() { printf '\n==> %s\n' "$*" >&2; }

step "preparing PostgreSQL"
# shellcheck source-path=SCRIPTDIR source=pg-test-env.sh
. scripts/pg-test-env.sh
export CHENGXIN_REQUIRE_POSTGRES=1

step "preparing the browser tests (Chromium, ChromeDriver, CJK fonts, poppler)"
# shellcheck source-path=SCRIPTDIR source=browser-test-env.sh
. scripts/browser-test-env.sh

# Add --workspace / --all-targets unless the caller selected packages / targets.
pkg_args=(--workspace)
target_args=(--all-targets)
for arg in "$@"; do
    case "$arg" in
    --) break ;;
    -p | -p?* | --package | --package=* | --workspace | --all | --manifest-path | --manifest-path=*)
        pkg_args=()
        ;;
    --lib | --bins | --bin | --bin=* | --examples | --example | --example=* | --tests | --test | --test=* | \
        --benches | --bench | --bench=* | --all-targets | --doc)
        target_args=()
        ;;
    esac
done

# Every cargo test run is also written here, to total the results at the end.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
failed=() # the steps that failed; every step runs, the totals come last

step "cargo test ${pkg_args[*]} ${target_args[*]} $*"
cargo test --no-fail-fast "${pkg_args[@]}" "${target_args[@]}" "$@" 2>&1 | tee -a "$results" \
    || failed+=("cargo test")

# Doc tests are not part of --all-targets. Skip them only if no workspace
# member has a doc-testable (library) target at all.
if ((${#target_args[@]})); then
    if cargo metadata --no-deps --format-version 1 | grep -q '"doctest":true'; then
        step "cargo test ${pkg_args[*]} --doc $*"
        cargo test --no-fail-fast "${pkg_args[@]}" --doc "$@" 2>&1 | tee -a "$results" \
            || failed+=("doc tests")
    else
        step "no library targets: no doc tests to run"
    fi
fi

# Extra end-to-end checks (e.g. crash recovery), only in a full run.
if (($# == 0)) && [[ -d scripts/ci-checks ]]; then
    for check in scripts/ci-checks/*.sh; do
        [[ -e "$check" ]] || continue
        step "$check"
        if [[ -x "$check" ]]; then
            "$check" || failed+=("$check")
        else
            echo "note: $check is not executable; running it with bash" >&2
            bash "$check" || failed+=("$check")
        fi
    done
fi

# One closing line with the totals of every cargo test run above.
totals() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i - 1); if ($(i) ~ /^failed;?$/) f += $(i - 1) } }
         END { printf "tests: %d passed, %d failed\n", p, f }' "$results"
}
if ((${#failed[@]})); then
    step "FAILED: ${failed[*]}"
    grep -E '^test .* \.\.\. FAILED$' "$results" | sort -u || true
    totals
    exit 1
fi
step "all tests passed"
totals
