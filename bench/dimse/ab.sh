#!/usr/bin/env bash
# Alternating A/B of hub builds on one association: each round starts every build on a fresh
# store and pushes the same small set, then the large set, with DCMTK storescu; prints inst/s
# and MB/s per build per round. For comparing two commits in the same minutes on a noisy disk.
#
#   bench/dimse/ab.sh SET HUB_A HUB_B [...]     # SET made by make_set.py (SET/small, SET/large)
#   ROUNDS=5 bench/dimse/ab.sh /tmp/dimse-set /tmp/hub-before target/release/hub
set -euo pipefail
SET=$1
shift
ROUNDS=${ROUNDS:-3}
STORESCU=/usr/bin/storescu # not a python shim of the same name earlier in PATH
export TCP_NODELAY=1
small=("$SET"/small/*.dcm)
large=("$SET"/large/*.dcm)
small_bytes=$(du -sb "$SET/small" | cut -f1)
large_bytes=$(du -sb "$SET/large" | cut -f1)
run() { # hub-binary
    local work port pid t0 t1 t2
    work=$(mktemp -d /tmp/dimse-ab.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$1" --data-dir "$work/hub" institution add --code BENCH --name "Bench clinic" >/dev/null 2>&1
    REMOTEDX_HUB_DICOM__CALLING_AE__STORESCU=BENCH REMOTEDX_HUB_DICOM__MAX_PDU_LENGTH=131072 \
        REMOTEDX_HUB_JOBS__IN_PROCESS=false RUST_LOG=warn \
        "$1" --data-dir "$work/hub" serve --listen 127.0.0.1:0 --dicom-listen "127.0.0.1:$port" \
        >"$work/hub.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    t0=$(date +%s.%N)
    "$STORESCU" -aet STORESCU -aec REMOTEDX -xe 127.0.0.1 "$port" "${small[@]}"
    t1=$(date +%s.%N)
    "$STORESCU" -aet STORESCU -aec REMOTEDX -xe 127.0.0.1 "$port" "${large[@]}"
    t2=$(date +%s.%N)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
    python3 -c "print(f'{\"$1\":<40} small {${#small[@]}/($t1-$t0):7.1f} inst/s   large {$large_bytes/($t2-$t1)/1e6:7.1f} MB/s')"
}
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r"
    for hub in "$@"; do run "$hub"; done
done
