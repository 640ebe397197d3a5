#!/usr/bin/env python3
"""Wave delineation side by side on the same records and the same scoring: worker-ecg
(`ecg-eval delineation`, the median-beat boundaries of every lead the hub uses) against
NeuroKit2 `ecg_delineate(method="dwt")` (one lead: LUDB lead II, the QT Database's first lead,
R peaks from `ecg_peaks`, as it is used out of the box).

Scoring is `worker_ecg::eval_delineation`'s, re-implemented here: the cardiologists' waves are
read from the QT Database's `.q1c` and LUDB's per-lead files, merged per beat into global
boundaries (the earliest onset and latest offset over the leads, but the second earliest /
second latest where three leads or more mark the boundary, setting one lead's outlying mark
aside); a detected beat matches the nearest unused reference QRS within 150 ms; on a matched
beat a boundary marked and found adds its error (detected - marked), marked and not found is a
FN, found and not marked a FP; a reference beat not matched counts its marked boundaries as
FN. Mean and SD pool all errors.

    pip install wfdb neurokit2
    cargo build --release -p worker-ecg --bin ecg-eval   # or ECG_EVAL=path/to/ecg-eval
    python3 bench/ecg/delineation_peers.py ../shared/corpus/ecg-annotated
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
NAMES = ["P on", "P off", "QRS on", "QRS off", "T off"]
CSE = [10.2, 12.7, 6.5, 11.6, 30.6]
LEADS = ["i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"]
BEAT = set("NLRBAaJSVrFejnE/fQ?")


def beats_of(ann):
    """[(r, [p_on, p_off, qrs_on, qrs_off, t_off])] from one boundary annotation file."""
    waves, onset, closable = [], None, False
    for s, c in zip(ann.sample, ann.symbol):
        if c == "(":
            onset, closable = s, False
        elif c == ")":
            if closable and waves:
                waves[-1][3] = s
            onset, closable = None, False
        elif c in ("p", "t", "u") or c in BEAT:
            kind = c if c in ("p", "t", "u") else "N"
            waves.append([kind, onset, s, None])
            onset, closable = None, True
        else:
            onset, closable = None, False
    qrs = [i for i, w in enumerate(waves) if w[0] == "N"]
    out = []
    for n, i in enumerate(qrs):
        prev = qrs[n - 1] + 1 if n else 0
        nxt = qrs[n + 1] if n + 1 < len(qrs) else len(waves)
        p = next((w for w in reversed(waves[prev:i]) if w[0] == "p"), None)
        t = next((w for w in waves[i + 1:nxt] if w[0] == "t"), None)
        q = waves[i]
        out.append((q[2], [p and p[1], p and p[3], q[1], q[3], t and t[3]]))
    return out


def merge(leads, fs):
    groups = []
    for beats in leads:
        for r, m in beats:
            g = next((g for g in groups if abs(g[0] - r) <= round(0.1 * fs)), None)
            if g is None:
                g = (r, [[] for _ in range(5)])
                groups.append(g)
            for i, x in enumerate(m):
                if x is not None:
                    g[1][i].append(x)
    out = []
    for r, marks in sorted(groups, key=lambda g: g[0]):
        glob = []
        for i, xs in enumerate(marks):
            xs = sorted(xs) if i in (0, 2) else sorted(xs, reverse=True)
            k = 1 if len(xs) >= 3 else 0
            glob.append(xs[k] if xs else None)
        out.append((r, glob))
    return out


def score(ref, det, fs, acc):
    w = round(0.15 * fs)
    used = [False] * len(det)
    for r, m in ref:
        cand = [k for k in range(len(det)) if not used[k] and abs(det[k][0] - r) <= w]
        k = min(cand, key=lambda k: abs(det[k][0] - r)) if cand else None
        if k is not None:
            used[k] = True
        for i in range(5):
            o = det[k][1][i] if k is not None else None
            if m[i] is not None and o is not None:
                acc[i]["err"].append((o - m[i]) * 1000.0 / fs)
            elif m[i] is not None:
                acc[i]["fn"] += 1
            elif o is not None:
                acc[i]["fp"] += 1


def neurokit2(x, fs):
    import neurokit2 as nk
    clean = nk.ecg_clean(x, sampling_rate=fs)
    _, info = nk.ecg_peaks(clean, sampling_rate=fs)
    r = info["ECG_R_Peaks"]
    _, waves = nk.ecg_delineate(clean, r, sampling_rate=fs, method="dwt")
    keys = ["ECG_P_Onsets", "ECG_P_Offsets", "ECG_R_Onsets", "ECG_R_Offsets", "ECG_T_Offsets"]
    cols = [np.asarray(waves.get(k, [np.nan] * len(r)), dtype=float) for k in keys]
    fix = lambda v: None if np.isnan(v) else int(v)
    return [(int(s), [fix(c[j]) for c in cols]) for j, s in enumerate(r)]


def records(d):
    for h in sorted(d.rglob("*.hea")):
        rec = h.with_suffix("")
        if h.with_suffix(".q1c").exists():
            yield rec, "QTDB"
        elif h.with_suffix(".ii").exists():
            yield rec, "LUDB"


def row(label, acc):
    for i, name in enumerate(NAMES):
        e, fn, fp = np.asarray(acc[i]["err"]), acc[i]["fn"], acc[i]["fp"]
        tp = len(e)
        se = 100.0 * tp / (tp + fn) if tp + fn else 100.0
        ppv = 100.0 * tp / (tp + fp) if tp + fp else 100.0
        mean, sd = (e.mean(), e.std(ddof=1)) if tp > 1 else (0.0, 0.0)
        print(f"| {label} | {name} | {tp + fn} | {se:.1f} | {ppv:.1f} | {mean:+.1f} | {sd:.1f} | {CSE[i]} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    a = ap.parse_args()
    import wfdb
    warnings.filterwarnings("ignore")
    exe = os.environ.get("ECG_EVAL", ROOT / "target" / "release" / "ecg-eval")
    t = time.perf_counter()
    ours = subprocess.run([exe, "delineation", str(a.dir)], capture_output=True, text=True).stdout
    ours_secs = time.perf_counter() - t
    acc = {db: [{"err": [], "fn": 0, "fp": 0} for _ in range(5)] for db in ("LUDB", "QTDB")}
    secs = 0.0
    for rec, db in records(a.dir):
        hdr = wfdb.rdheader(str(rec))
        fs = hdr.fs
        if db == "LUDB":
            ref = merge([beats_of(wfdb.rdann(str(rec), l)) for l in LEADS], fs)
            lead, lo, hi = [n.lower() for n in hdr.sig_name].index("ii"), 0, hdr.sig_len
        else:
            ref = beats_of(wfdb.rdann(str(rec), "q1c"))
            lead = 0
            lo, hi = max(0, ref[0][0] - 5 * fs), min(hdr.sig_len, ref[-1][0] + 5 * fs)
        x = wfdb.rdrecord(str(rec), sampfrom=int(lo), sampto=int(hi), channels=[lead]).p_signal[:, 0]
        t = time.perf_counter()
        try:
            det = [(r + int(lo), [None if v is None else v + int(lo) for v in m]) for r, m in neurokit2(x, fs)]
        except Exception as e:  # one record's failure is reported, the others go on
            print(f"{rec.name}: NeuroKit2 failed: {e}", file=sys.stderr)
            det = []
        secs += time.perf_counter() - t
        score(ref, det, fs, acc[db])
    print("## ours (ecg-eval delineation)\n")
    print(ours)
    print("## NeuroKit2 ecg_delineate(method='dwt'), one lead\n")
    print("| reference | boundary | marked | Se % | +P % | mean ms | SD ms | CSE SD ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for db in ("LUDB", "QTDB"):
        row(db, acc[db])
    print(f"\nseconds: ours {ours_secs:.1f} (ecg-eval, all cores, reading included); NeuroKit2 {secs:.1f} (one core, delineation only)")


if __name__ == "__main__":
    main()
