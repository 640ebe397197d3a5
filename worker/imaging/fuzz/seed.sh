#!/bin/sh
# Builds corpus/<target>/ seeds from $REMOTEDX_CORPUS (default ../shared/corpus); see seed.py.
set -eu
exec python3 "$(dirname "$0")/seed.py" "$@"
