#!/usr/bin/env python3
"""QRS detection side by side on the same records and the same scoring: worker-ecg (`ecg-eval
qrs`, every lead of the record) against WFDB `xqrs`, NeuroKit2 `ecg_peaks` and sleepecg
`detect_heartbeats` (first lead, as each is used out of the box).

Scoring is `worker_ecg::eval`'s, re-implemented here: EC57 beat labels from `.atr`, a detection
matches the nearest unused reference beat within 150 ms, from 5:00 to the end; detections
inside ventricular flutter/fibrillation episodes (`[` … `]`) are left out for every detector.
Gross Se and +P pool the beats of all records, and again without the paced records.

    pip install wfdb neurokit2 sleepecg
    cargo build --release -p worker-ecg --bin ecg-eval   # or ECG_EVAL=path/to/ecg-eval
    python3 bench/ecg/qrs_peers.py ../shared/corpus/ecg-annotated/mitdb [--peers xqrs,neurokit2,sleepecg]
"""
import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
# Peer detections are kept here (they take minutes per record); delete it to time them again.
CACHE = ROOT / "bench" / "out" / "ecg" / "peers"
EC57 = set("NLRBAaJSVrFejnE/fQ?")
PACED = set("/f")


def reference(path):
    import wfdb
    a = wfdb.rdann(str(path), "atr")
    beats = np.array([s for s, c in zip(a.sample, a.symbol) if c in EC57], dtype=np.int64)
    vf, on = [], None
    for s, c in zip(a.sample, a.symbol):
        if c == "[":
            on = s
        elif c == "]" and on is not None:
            vf.append((on, s))
            on = None
    if on is not None:
        vf.append((on, np.iinfo(np.int64).max))
    return beats, vf, any(c in PACED for c in a.symbol)


def score(ref, det, vf, fs):
    det = np.asarray(det, dtype=np.int64)
    for a, b in vf:
        det = det[(det < a) | (det > b)]
    start, w = int(round(300 * fs)), int(round(0.15 * fs))
    r, t = ref[ref >= start], np.sort(det[det >= start])
    used = np.zeros(len(t), bool)
    tp, j = 0, 0
    for s in r:
        while j < len(t) and t[j] + w < s:
            j += 1
        k, best = j, None
        while k < len(t) and t[k] <= s + w:
            if not used[k] and (best is None or abs(t[k] - s) < abs(t[best] - s)):
                best = k
            k += 1
        if best is not None:
            used[best] = True
            tp += 1
    return tp, len(r) - tp, len(t) - tp


def xqrs(x, fs):
    import wfdb.processing
    return wfdb.processing.xqrs_detect(x, fs=fs, verbose=False)


def neurokit2(x, fs):
    import neurokit2 as nk
    _, info = nk.ecg_peaks(nk.ecg_clean(x, sampling_rate=fs), sampling_rate=fs)
    return info["ECG_R_Peaks"]


def sleepecg(x, fs):
    import sleepecg as se
    return se.detect_heartbeats(x, fs)


PEERS = {"xqrs": xqrs, "neurokit2": neurokit2, "sleepecg": sleepecg}


def ours(d):
    exe = os.environ.get("ECG_EVAL", ROOT / "target" / "release" / "ecg-eval")
    t = time.perf_counter()
    out = subprocess.run([exe, "qrs", str(d), "--bar", "0"], capture_output=True, text=True, check=True).stdout
    secs = time.perf_counter() - t
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 5 and cells[1].isdigit():
            rows[cells[0].split()[0]] = tuple(int(c) for c in cells[2:5])
    return rows, secs


def pct(a, b):
    return 100.0 * a / b if b else 100.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--peers", default="xqrs,neurokit2,sleepecg")
    a = ap.parse_args()
    import wfdb
    warnings.filterwarnings("ignore")
    peers = [p for p in a.peers.split(",") if p]
    records = sorted(p.with_suffix("") for p in a.dir.glob("*.hea") if p.with_suffix(".atr").exists())
    names = ["ours"] + peers
    ours_rows, ours_secs = ours(a.dir)
    counts = {n: {} for n in names}
    secs = {n: 0.0 for n in peers}
    paced = set()
    for rec in records:
        ref, vf, is_paced = reference(rec)
        if is_paced:
            paced.add(rec.name)
        counts["ours"][rec.name] = ours_rows[rec.name]
        sig = wfdb.rdrecord(str(rec)).p_signal[:, 0]
        fs = wfdb.rdheader(str(rec)).fs
        for p in peers:
            cache = CACHE / f"{rec.parent.name}-{rec.name}-{p}.npy"
            if cache.exists():
                det = np.load(cache)
            else:
                t = time.perf_counter()
                det = np.asarray(PEERS[p](sig, fs), dtype=np.int64)
                secs[p] += time.perf_counter() - t
                CACHE.mkdir(parents=True, exist_ok=True)
                np.save(cache, det)
            counts[p][rec.name] = score(ref, det, vf, fs)
        print(rec.name, {n: counts[n][rec.name] for n in names}, file=sys.stderr)
    print("| record | " + " | ".join(f"{n} Se % | {n} +P %" for n in names) + " |")
    print("|---|" + "---:|---:|" * len(names))
    for rec in records:
        cells = []
        for n in names:
            tp, fn, fp = counts[n][rec.name]
            cells += [f"{pct(tp, tp + fn):.2f}", f"{pct(tp, tp + fp):.2f}"]
        mark = " (paced)" if rec.name in paced else ""
        print(f"| {rec.name}{mark} | " + " | ".join(cells) + " |")
    for label, keep in (("**gross**", lambda r: True), ("**gross without paced**", lambda r: r not in paced)):
        cells = []
        for n in names:
            tp, fn, fp = (sum(c[i] for r, c in counts[n].items() if keep(r)) for i in range(3))
            cells += [f"{pct(tp, tp + fn):.2f}", f"{pct(tp, tp + fp):.2f}"]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nseconds for the whole set: ours {ours_secs:.1f} (ecg-eval, all cores, reading included); "
          + ", ".join(f"{p} {secs[p]:.1f} (detection only, one core, records not cached)" for p in peers))


if __name__ == "__main__":
    main()
