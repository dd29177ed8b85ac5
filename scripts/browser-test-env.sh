#!/usr/bin/env bash
# shellcheck shell=bash
#
# Make sure the browser tests (crates/server/tests/api/browser) can run:
# Debian's Chromium and its matching ChromeDriver, CJK fonts (so Chinese
# pages render and print with real glyphs) and poppler-utils (pdftotext and
# pdftoppm, to read the PDFs Chromium prints).
#
# Usage:
#   . scripts/browser-test-env.sh     # in bash (scripts/test.sh does this)
#   scripts/browser-test-env.sh       # just install what is missing
#
# What it does (idempotent):
#   1. If everything is there, nothing.
#   2. Otherwise, as root: apt-get install chromium, chromium-driver,
#      fonts-noto-cjk and poppler-utils in ONE command (so the browser and
#      the driver come from the same source package and their versions
#      match). Not root: print what to install and skip; the browser tests
#      then skip themselves.
#   3. When CI=true, export CHENGXIN_REQUIRE_BROWSER=1 so the browser tests
#      fail (not skip) if the browser is unavailable.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "browser-test-env: this script needs bash" >&2
    # shellcheck disable=SC2317  # `exit` is reached when executed, not sourced
    return 1 2>/dev/null || exit 1
fi

# ---------------------------------------------------------------------------
# Sourced: install in a separate, strict bash process, and only export here,
# so the caller's shell options and variables stay untouched.
# ---------------------------------------------------------------------------
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    if [[ "${CI:-}" == true ]]; then
        export CHENGXIN_REQUIRE_BROWSER=1
    fi
    if bash "${BASH_SOURCE[0]}"; then
        return 0
    fi
    if [[ "${CHENGXIN_REQUIRE_BROWSER:-}" == 1 ]]; then
        echo "browser-test-env: FAILED to install the browser, and CHENGXIN_REQUIRE_BROWSER=1" >&2
        return 1
    fi
    echo "browser-test-env: no browser; the browser tests will skip" >&2
    return 0
fi

# ---------------------------------------------------------------------------
# Executed.
# ---------------------------------------------------------------------------
set -euo pipefail

readonly PACKAGES=(chromium chromium-driver fonts-noto-cjk poppler-utils)
# What each package provides that the tests use.
readonly NEEDED=(
    /usr/bin/chromium
    /usr/bin/chromedriver
    /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
    /usr/bin/pdftotext
    /usr/bin/pdftoppm
)

log() { printf 'browser-test-env: %s\n' "$*" >&2; }

missing=()
for f in "${NEEDED[@]}"; do
    [[ -e "$f" ]] || missing+=("$f")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

log "missing: ${missing[*]}"
if [[ "$(id -u)" != 0 ]]; then
    log "not root: install them with: sudo apt-get install ${PACKAGES[*]}"
    exit 1
fi
command -v apt-get >/dev/null 2>&1 || {
    log "apt-get is unavailable: install ${PACKAGES[*]} by hand"
    exit 1
}

# Serialise concurrent runs (two apt-get installs would fight over the lock).
lock="${TMPDIR:-/tmp}/chengxin-browser-test-env.lock"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    flock -w 600 9 || {
        log "timed out waiting for lock $lock"
        exit 1
    }
fi

log "installing ${PACKAGES[*]} with apt-get (quietly; this takes a minute)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

for f in "${NEEDED[@]}"; do
    [[ -e "$f" ]] || {
        log "apt-get install ${PACKAGES[*]} did not provide $f"
        exit 1
    }
done
log "ready: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), $(/usr/bin/chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
