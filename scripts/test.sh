#!/usr/bin/env bash
# The project's one test command (README.md names it; .ci/run calls it).
# Installs what the tests need on a fresh Debian machine (reference DICOM tools, Python peers,
# database servers), builds the binaries the end-to-end tests start, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each area lists its own system and Python needs in scripts/ci-deps/<area>.sh.
for deps in scripts/ci-deps/*.sh; do  # each sources lib.bash
    [ -e "$deps" ] || continue
    echo "==> installing test dependencies: $deps"
    bash "$deps"
done

export REMOTEDX_CORPUS="${REMOTEDX_CORPUS:-$(cd .. && pwd)/shared/corpus}"
echo "==> corpus: $REMOTEDX_CORPUS"

echo "==> building binaries for the end-to-end tests"
cargo build --workspace --bins --locked

echo "==> running tests"
cargo test --workspace --locked -- --test-threads="${TEST_THREADS:-2}"
# The raw-codestream fuzz regressions need the decoder entry points behind the `fuzzing` feature.
cargo test --locked -p worker-imaging --features fuzzing --test fuzz_regressions
