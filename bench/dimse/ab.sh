#!/usr/bin/env bash
# Alternating A/B of hub builds: each round starts every build on a fresh store and pushes the
# same small set, then the large set, with DCMTK storescu on one association, then (on another
# fresh store) the small set over CONCURRENT associations; prints inst/s and MB/s per build per
# round. For comparing two commits in the same minutes on a noisy disk.
#
#   bench/dimse/ab.sh SET HUB_A HUB_B [...]     # SET made by make_set.py (SET/small, SET/large)
#   ROUNDS=5 CONCURRENT=4 bench/dimse/ab.sh /tmp/dimse-set /tmp/hub-before target/release/hub
#
# The stores are deleted only at the end: on an ext4 volume without a journal (this sandbox's),
# creating a file skips every inode deleted in the last seconds to minutes, one buffer lookup
# each, so a run right after a deletion of thousands of files pays for it (measured: 30 % of
# the hub's CPU samples in that scan).
set -euo pipefail
SET=$1
shift
ROUNDS=${ROUNDS:-3}
CONCURRENT=${CONCURRENT:-4}
WORKS=()
trap 'rm -rf "${WORKS[@]}"' EXIT
STORESCU=/usr/bin/storescu # not a python shim of the same name earlier in PATH
export TCP_NODELAY=1
small=("$SET"/small/*.dcm)
large=("$SET"/large/*.dcm)
large_bytes=$(du -sb "$SET/large" | cut -f1)
start() { # hub-binary; sets PORT and PID
    local work
    work=$(mktemp -d /tmp/dimse-ab.XXXXXX)
    WORKS+=("$work")
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$1" --data-dir "$work/hub" institution add --code BENCH --name "Bench clinic" >/dev/null 2>&1
    REMOTEDX_HUB_DICOM__CALLING_AE__STORESCU=BENCH REMOTEDX_HUB_DICOM__MAX_PDU_LENGTH=131072 \
        REMOTEDX_HUB_JOBS__IN_PROCESS=false RUST_LOG=warn \
        "$1" --data-dir "$work/hub" serve --listen 127.0.0.1:0 --dicom-listen "127.0.0.1:$port" \
        >"$work/hub.log" 2>&1 &
    PID=$!
    PORT=$port
    for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
}
stop() {
    kill "$PID"
    wait "$PID" 2>/dev/null || true
}
run() { # hub-binary
    local t0 t1 t2 t3 t4 i n=${#small[@]}
    start "$1"
    t0=$(date +%s.%N)
    "$STORESCU" -aet STORESCU -aec REMOTEDX -xe 127.0.0.1 "$PORT" "${small[@]}"
    t1=$(date +%s.%N)
    "$STORESCU" -aet STORESCU -aec REMOTEDX -xe 127.0.0.1 "$PORT" "${large[@]}"
    t2=$(date +%s.%N)
    stop
    start "$1"
    t3=$(date +%s.%N)
    for ((i = 0; i < CONCURRENT; i++)); do
        "$STORESCU" -aet STORESCU -aec REMOTEDX -xe 127.0.0.1 "$PORT" \
            "${small[@]:$((i * n / CONCURRENT)):$(((i + 1) * n / CONCURRENT - i * n / CONCURRENT))}" &
    done
    wait $(jobs -p | grep -v "^$PID$")
    t4=$(date +%s.%N)
    stop
    python3 -c "print(f'{\"$1\":<40} small {$n/($t1-$t0):7.1f} inst/s   large {$large_bytes/($t2-$t1)/1e6:7.1f} MB/s   small x$CONCURRENT {$n/($t4-$t3):7.1f} inst/s')"
}
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r"
    for hub in "$@"; do run "$hub"; done
done
