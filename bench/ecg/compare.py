#!/usr/bin/env python3
"""ECG analysis speed, side by side on the same records: worker-ecg `analyse` vs NeuroKit2
`ecg_process` vs WFDB `xqrs_detect`, one core each.

Our example writes synthetic 10-s 12-lead 500 Hz records and times itself in-process (median of
REPEAT); this script times NeuroKit2 (`ecg_process` on each of the 12 leads: cleaning, peaks,
delineation) and WFDB (`processing.xqrs_detect` on each lead: QRS only) in-process on the same samples.
Reported: ms per 12-lead record and ratios. Ours also runs with all cores.

    pip install neurokit2 wfdb
    cargo build --release -p worker-ecg --example ecg_timing
    python3 bench/ecg/compare.py [--records 4] [--repeat 5]
"""
import argparse
import os
import statistics
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "ecg"
TOOL = ROOT / "target" / "release" / "examples" / "ecg_timing"
FS, LEADS, N = 500, 12, 5000


def ours(records, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    p = subprocess.run([TOOL, OUT, str(records), "50"], env=env, check=True, capture_output=True, text=True)
    return [float(l.split("ms_per_record=")[1]) for l in p.stdout.splitlines()]


def timed(fn, sig, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        for lead in sig:
            fn(lead)
        ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    import neurokit2 as nk
    import wfdb.processing
    warnings.filterwarnings("ignore")
    one = ours(a.records, 1)
    allc = ours(a.records, os.cpu_count())
    print(f"# ms per 10-s 12-lead 500 Hz record (median), {os.cpu_count()} cores")
    print("| record | ours, 1 thread | ours, all cores | NeuroKit2 ecg_process | WFDB xqrs | NeuroKit2 / ours (1 thread) | xqrs / ours (1 thread) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for k in range(a.records):
        sig = np.fromfile(OUT / f"rec{k}.f32", dtype="<f4").reshape(LEADS, N).astype(np.float64) / 1000.0
        neuro = timed(lambda x: nk.ecg_process(x, sampling_rate=FS), sig, a.repeat)
        xqrs = timed(lambda x: wfdb.processing.xqrs_detect(x, fs=FS, verbose=False), sig, a.repeat)
        print(f"| rec{k} | {one[k]:.2f} | {allc[k]:.2f} | {neuro:.1f} | {xqrs:.1f} | {neuro / one[k]:.0f}x | {xqrs / one[k]:.0f}x |")


if __name__ == "__main__":
    main()
