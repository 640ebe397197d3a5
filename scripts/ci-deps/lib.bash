#!/usr/bin/env bash
# apt and pip helpers for the scripts beside it: `source "$(dirname "$0")/lib.bash"`. Idempotent and quiet.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
pip_install() {
    python3 -m pip install -q --disable-pip-version-check "$@"
}
