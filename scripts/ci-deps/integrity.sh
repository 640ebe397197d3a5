#!/usr/bin/env bash
# Tamper-evidence tests (tests/tests/tamper.rs) edit the index the way someone holding the file
# would: with the sqlite3 shell.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
apt_install sqlite3
command -v sqlite3 >/dev/null || { echo "sqlite3 was not installed" >&2; exit 1; }
