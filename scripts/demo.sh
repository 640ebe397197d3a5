#!/usr/bin/env bash
# README.md's first command: everything a fresh machine needs to try the hub, in one go.
# Installs the OHIF viewer the hub serves at /viewer (scripts/fetch-ohif.sh: the pinned
# @ohif/app package from the npm registry, checked against its sha512; skipped when already
# there), then builds and starts the hub with the demo region:
# gRPC on 127.0.0.1:50051, DICOM on 127.0.0.1:11112, HTTP (viewer, DICOMweb) on 127.0.0.1:8080.
# Extra arguments go to `hub serve` (e.g. --http-listen 127.0.0.1:9090).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-ohif.sh
exec cargo run --release -p hub -- serve --demo "$@"
