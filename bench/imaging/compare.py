#!/usr/bin/env python3
"""Side-by-side decode speed: this worker vs DCMTK vs GDCM, interleaved in one run.

Takes the 1955x1841 16-bit radiograph RG1_UNCR.dcm from the corpus, encodes it once with DCMTK/GDCM
into every compressed transfer syntax (so every codec decodes the same pixels), then decodes each
file R times with each tool, round-robin (ours, DCMTK, GDCM, ours, ...), one process per decode for
every tool so start-up costs are alike. Every process (ours and the peers) is pinned to the first
`--threads` CPUs, so "1 thread" means one core for everybody: GDCM otherwise decodes JPEG 2000 with
OpenJPEG's thread pool on every core. Reports decoded MB/s (pixels out, 1 MB = 1e6 bytes) from the
median wall time, and our ratio to the fastest peer.

    python3 bench/imaging/compare.py [--repeat 7] [--threads 1] [--codec NAME ...]

`--codec` keeps only the named rows (e.g. `--codec jpeg-lossless-sv1`); the tool is looked up under
$CARGO_TARGET_DIR (default `target/`).

Needs: DCMTK, GDCM (scripts/ci-deps/imaging.sh) and `cargo build --release -p worker-imaging --example imaging_tool`.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("REMOTEDX_CORPUS", ROOT.parent / "shared" / "corpus"))
OUT = ROOT / "bench" / "out" / "imaging"
TOOL = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "examples" / "imaging_tool"

# codec -> how to make it from the uncompressed source, and the DCMTK decoder to time.
CODECS = [
    ("native", None, ["dcmconv", "+te"]),
    ("rle", ["dcmcrle"], ["dcmdrle"]),
    ("jpeg-lossless-sv1", ["dcmcjpeg", "+e1"], ["dcmdjpeg"]),
    ("jpeg-ls-lossless", ["dcmcjpls", "+el"], ["dcmdjpls"]),
    ("jpeg-ls-near", ["dcmcjpls", "+en", "+md", "2"], ["dcmdjpls"]),
    ("jpeg-extended-12bit", ["dcmcjpeg", "+ee", "+q", "90"], ["dcmdjpeg"]),
    ("j2k-lossless", ["gdcmconv", "--j2k"], None),
    ("j2k-lossy", ["gdcmconv", "--j2k", "--lossy", "-q", "40"], None),
]


CPUS = None  # the CPUs every timed process may use; set from --threads


def pin():
    if CPUS is not None:
        os.sched_setaffinity(0, CPUS)


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pin)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: {p.stderr.decode(errors='replace')[:300]}")
    return dt, p.stdout.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--codec", action="append", choices=[c[0] for c in CODECS],
                    help="only this codec (repeatable); default all")
    args = ap.parse_args()
    src = CORPUS / "dicom" / "pydicom-data" / "RG1_UNCR.dcm"
    for need in ["dcmdjpeg", "gdcmconv"]:
        if not shutil.which(need):
            sys.exit(f"{need} not found: run scripts/ci-deps/imaging.sh")
    if not TOOL.exists():
        sys.exit(f"{TOOL} not found: cargo build --release -p worker-imaging --example imaging_tool")
    if not src.exists():
        sys.exit(f"{src} not found: set REMOTEDX_CORPUS")
    OUT.mkdir(parents=True, exist_ok=True)
    global CPUS
    available = sorted(os.sched_getaffinity(0))
    if args.threads > len(available):
        sys.exit(f"--threads {args.threads}: only {len(available)} CPUs available")
    CPUS = set(available[: args.threads])
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    rows = []
    for name, make, dcmtk in CODECS:
        if args.codec and name not in args.codec:
            continue
        f = OUT / f"{name}.dcm"
        if make is None:
            shutil.copy(src, f)
        else:
            run(make + [str(src), str(f)])
        _, out = run([TOOL, "decode", f])
        decoded = int(out.split("decoded_bytes=")[1].split()[0])
        tools = {"ours": lambda f=f: [TOOL, "decode", f]}
        if dcmtk:
            tools["dcmtk"] = lambda f=f, d=dcmtk: d + [str(f), str(OUT / "dcmtk.out")]
        tools["gdcm"] = lambda f=f: ["gdcmconv", "--raw", str(f), str(OUT / "gdcm.out")]
        times = {k: [] for k in tools}
        for _ in range(args.repeat):
            for k, cmd in tools.items():
                times[k].append(run(cmd())[0])
        mbs = {k: decoded / 1e6 / statistics.median(v) for k, v in times.items()}
        best_peer = max((v, k) for k, v in mbs.items() if k != "ours")
        rows.append((name, f.stat().st_size, mbs, best_peer))
    print(f"# decode, RG1 1955x1841 16-bit, every tool pinned to {args.threads} CPU(s), median of "
          f"{args.repeat}, one process per decode, MB/s of decoded pixels")
    print("| codec | file bytes | ours | DCMTK | GDCM | ours / fastest peer |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, size, mbs, (bv, bk) in rows:
        fmt = lambda k: f"{mbs[k]:.1f}" if k in mbs else "-"
        print(f"| {name} | {size} | {fmt('ours')} | {fmt('dcmtk')} | {fmt('gdcm')} | "
              f"{mbs['ours'] / bv:.2f}x ({bk}) |")


if __name__ == "__main__":
    main()
