#!/usr/bin/env bash
# C-STORE ingest speed: the same set pushed with DCMTK storescu to the hub, to DCMTK storescp
# (writing files) and to Orthanc (Debian's, default SQLite index), interleaved, REPEATS times.
# Prints instances/s and MB/s per receiver and set (best of the repeats) and the ratios to the hub.
#
#   bench/dimse/compare.sh                 # 1,000 small (39 KB) + 20 large (7.2 MB) instances
#   SMALL=200 LARGE=5 REPEATS=1 bench/dimse/compare.sh
#   HUB=target/debug/hub bench/dimse/compare.sh   # default: target/release/hub
#   SET=/tmp/dimse-set bench/dimse/compare.sh     # reuse a set made by make_set.py
#
# Needs: dcmtk, orthanc, python3 with pydicom (scripts/ci-deps/dimse.sh; apt-get install orthanc).
# TCP_NODELAY=1 is set for DCMTK on both ends (without it DCMTK stalls ~40-90 ms per C-STORE on
# Nagle + delayed ACK); the hub sets it on every DICOM socket itself. PDU size: 128 KiB everywhere.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HUB=${HUB:-$ROOT/target/release/hub}
CORPUS=${REMOTEDX_CORPUS:-$ROOT/../shared/corpus}
SMALL=${SMALL:-1000}
LARGE=${LARGE:-20}
REPEATS=${REPEATS:-3}
CONCURRENT=${CONCURRENT:-4}
PDU=131072
export TCP_NODELAY=1
STORESCU=/usr/bin/storescu
STORESCP=/usr/bin/storescp
ORTHANC=${ORTHANC:-/usr/sbin/Orthanc}
for tool in "$HUB" "$STORESCU" "$STORESCP" "$ORTHANC"; do
    [ -x "$tool" ] || { echo "missing $tool (see the header of $0)" >&2; exit 1; }
done

# BENCH_DIR: where the receivers store (the volume under test); default /tmp.
WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/dimse-bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2; exit 1
}

if [ -n "${SET:-}" ]; then  # a set made earlier by make_set.py (SET/small, SET/large)
    SETDIR=$SET
    SMALL=$(find "$SET/small" -name '*.dcm' | wc -l)
    LARGE=$(find "$SET/large" -name '*.dcm' | wc -l)
else
    echo "making the set: $SMALL small + $LARGE large instances" >&2
    SETDIR=$WORK/set
    python3 "$ROOT/bench/dimse/make_set.py" "$CORPUS" "$SETDIR" "$SMALL" "$LARGE"
fi

# Receivers get a fresh store per run so that every run stores (not de-duplicates) the set.
start_hub() {
    local dir=$WORK/hub-$1 port
    port=$(free_port)
    "$HUB" --data-dir "$dir" institution add --code BENCH --name "Bench clinic" >/dev/null
    REMOTEDX_HUB_DICOM__CALLING_AE__STORESCU=BENCH REMOTEDX_HUB_DICOM__MAX_PDU_LENGTH=$PDU \
        REMOTEDX_HUB_JOBS__IN_PROCESS=false RUST_LOG=warn \
        "$HUB" --data-dir "$dir" serve --listen 127.0.0.1:0 --dicom-listen "127.0.0.1:$port" \
        >"$dir.log" 2>&1 &
    PIDS+=($!)
    PORT=$port AE=REMOTEDX PID=$!
    wait_port "$port"
}
start_storescp() {
    local dir=$WORK/scp-$1 port
    port=$(free_port)
    mkdir -p "$dir"
    "$STORESCP" --fork -od "$dir" +B --max-pdu $PDU -aet STORESCP "$port" >"$dir.log" 2>&1 &
    PIDS+=($!)
    PORT=$port AE=STORESCP PID=$!
    wait_port "$port"
}
start_orthanc() {
    local dir=$WORK/orthanc-$1 port http
    port=$(free_port)
    http=$(free_port)
    mkdir -p "$dir"
    cat >"$dir.json" <<EOF
{ "Name": "bench", "StorageDirectory": "$dir", "IndexDirectory": "$dir",
  "DicomAet": "ORTHANC", "DicomPort": $port, "HttpPort": $http, "RemoteAccessAllowed": false,
  "DicomCheckCalledAet": false, "StorageCompression": false, "MaximumPduLength": $PDU, "Plugins": [] }
EOF
    "$ORTHANC" "$dir.json" >"$dir.log" 2>&1 &
    PIDS+=($!)
    PORT=$port AE=ORTHANC PID=$!
    wait_port "$port"
}

# push PORT AE DIR [CONCURRENT]: seconds taken to store every file in DIR.
push() {
    local port=$1 ae=$2 dir=$3 n=${4:-1} start end
    start=$(date +%s.%N)
    if [ "$n" -le 1 ]; then
        "$STORESCU" -aet STORESCU -aec "$ae" -xe 127.0.0.1 "$port" "$dir"/*.dcm 2>>"$WORK/storescu.log"
    else
        local files=("$dir"/*.dcm) i
        for ((i = 0; i < n; i++)); do
            "$STORESCU" -aet STORESCU -aec "$ae" -xe 127.0.0.1 "$port" "${files[@]:$((i * ${#files[@]} / n)):$(((i + 1) * ${#files[@]} / n - i * ${#files[@]} / n))}" 2>>"$WORK/storescu.log" &
        done
        wait
    fi
    end=$(date +%s.%N)
    if grep -q "^E:" "$WORK/storescu.log" 2>/dev/null; then
        echo "storescu reported errors:" >&2; cat "$WORK/storescu.log" >&2; exit 1
    fi
    python3 -c "print($end - $start)"
}

declare -A BEST
record() { # key seconds
    local prev=${BEST[$1]:-}
    if [ -z "$prev" ] || python3 -c "import sys; sys.exit(0 if $2 < $prev else 1)"; then BEST[$1]=$2; fi
}

small_bytes=$(du -sb "$SETDIR/small" | cut -f1)
large_bytes=$(du -sb "$SETDIR/large" | cut -f1)
for r in $(seq 1 "$REPEATS"); do
    for target in hub storescp orthanc; do
        "start_$target" "$r"
        s=$(push "$PORT" "$AE" "$SETDIR/small"); record "$target small" "$s"
        l=$(push "$PORT" "$AE" "$SETDIR/large"); record "$target large" "$l"
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        # Everything acknowledged must be on disk (the hub: blobs; storescp: files; Orthanc:
        # attachments).
        stored=$(find "$WORK/${target/storescp/scp}-$r" -type f -size +30k | wc -l)
        [ "$stored" -ge $((SMALL + LARGE)) ] || { echo "$target stored only $stored files" >&2; exit 1; }
        echo "run $r $target: small ${s}s, large ${l}s ($stored files on disk)" >&2
    done
    # The hub with CONCURRENT associations at once (a fresh hub: a new store).
    start_hub "c$r"
    c=$(push "$PORT" "$AE" "$SETDIR/small" "$CONCURRENT"); record "hub small x$CONCURRENT" "$c"
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    echo "run $r hub x$CONCURRENT: small ${c}s" >&2
done

echo
echo "C-STORE with DCMTK storescu, best of $REPEATS; $SMALL small ($((small_bytes / SMALL)) B) and $LARGE large ($((large_bytes / LARGE)) B) instances"
printf "%-22s %12s %10s %12s %10s\n" receiver "small inst/s" "small MB/s" "large inst/s" "large MB/s"
for target in hub storescp orthanc "hub small x$CONCURRENT"; do
    python3 - "$target" "${BEST[$target small]:-${BEST[$target]:-0}}" "${BEST[$target large]:-0}" "$SMALL" "$LARGE" "$small_bytes" "$large_bytes" <<'EOF'
import sys
name, s, l, ns, nl, bs, bl = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), *map(int, sys.argv[4:])
fmt = lambda n, t: f"{n / t:12.1f}" if t > 0 else f"{'-':>12}"
mb = lambda b, t: f"{b / t / 1e6:10.1f}" if t > 0 else f"{'-':>10}"
print(f"{name:<22} {fmt(ns, s)} {mb(bs, s)} {fmt(nl, l)} {mb(bl, l)}")
EOF
done
hub_s=${BEST[hub small]} hub_l=${BEST[hub large]}
for target in storescp orthanc; do
    python3 -c "print(f'hub vs $target: small {${BEST[$target small]}/$hub_s:.2f}x, large {${BEST[$target large]}/$hub_l:.2f}x (>1 means the hub is faster)')"
done
