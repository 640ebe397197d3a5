#!/usr/bin/env python3
"""Preview generation for a 300-slice 512x512 16-bit CT series: this worker vs DCMTK's dcm2pnm.

Makes the series from the corpus CT 693_UNCR.dcm (512x512, 14 bits stored in 16, signed,
Explicit VR LE, window 40/100): N copies with fresh Study/Series/SOP Instance UIDs, instance
numbers, slice positions, and the pixel rows rolled by the slice index so no two slices are
alike. Files go to /tmp (never into the repository).

Then times, interleaved round-robin and best of --repeat:
- ours, 1 thread and all cores: `imaging_tool series OUT DIR --threads T`, i.e. what the
  worker's image-series job does (worker_imaging::process_instances on a rayon pool: decode,
  modality LUT, dataset window, 512 px preview PNG and 128 px thumbnail PNG per instance, then
  worker_imaging::series_strip), writing every PNG;
- DCMTK, sequentially: `dcm2pnm --write-png +Wi 1 FILE OUT.png` for each file in one bash
  loop, one process each (dcm2pnm takes one file); and the same split into $(nproc) batches run
  by `xargs -P $(nproc)` (one bash loop per batch).
DCMTK writes one 512x512 PNG per file and no thumbnail or strip, so it does less work than ours.

    python3 bench/imaging/preview_ct.py [--slices 300] [--repeat 3]

Needs DCMTK, pydicom + numpy, and `cargo build --release -p worker-imaging --example
imaging_tool` (looked up under $CARGO_TARGET_DIR, default target/).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("REMOTEDX_CORPUS", ROOT.parent / "shared" / "corpus"))
SOURCE = CORPUS / "dicom" / "pydicom-data" / "693_UNCR.dcm"
TOOL = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "examples" / "imaging_tool"
WORK = Path("/tmp/remotedx-preview-ct")


def make_series(n, series_dir):
    import numpy as np
    import pydicom
    from pydicom.uid import generate_uid

    if series_dir.is_dir() and len(list(series_dir.iterdir())) == n:
        return
    shutil.rmtree(series_dir, ignore_errors=True)
    series_dir.mkdir(parents=True)
    src = pydicom.dcmread(SOURCE)
    if (src.Rows, src.Columns, src.BitsAllocated) != (512, 512, 16):
        sys.exit(f"{SOURCE} is not a 512x512 16-bit image")
    pixels = src.pixel_array
    study, series, frame_of_ref = generate_uid(), generate_uid(), generate_uid()
    x, y, z0 = (float(v) for v in src.ImagePositionPatient)
    for i in range(n):
        ds = src.copy()
        sop = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.FrameOfReferenceUID = frame_of_ref
        ds.SOPInstanceUID = sop
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [x, y, z0 + i * 1.25]
        ds.SliceLocation = z0 + i * 1.25
        ds.PixelData = np.roll(pixels, i, axis=0).astype(pixels.dtype).tobytes()
        ds.save_as(series_dir / f"CT{i + 1:04d}.dcm", enforce_file_format=True)


def run(cmd, shell=False):
    t = time.perf_counter()
    p = subprocess.run(cmd, shell=shell, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {cmd}\n{p.stderr[-2000:]}")
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for need in ("dcm2pnm", "xargs"):
        if not shutil.which(need):
            sys.exit(f"{need} not found (DCMTK: scripts/ci-deps/imaging.sh)")
    if not TOOL.is_file():
        sys.exit(f"{TOOL} missing: cargo build --release -p worker-imaging --example imaging_tool")
    series_dir = WORK / f"series{args.slices}"
    make_series(args.slices, series_dir)
    files = sorted(str(p) for p in series_dir.iterdir())
    cores = os.cpu_count() or 1
    out = WORK / "out"
    # No subshell per file: the name comes from parameter expansion, and the parallel run gives
    # each of `cores` shells one batch, so DCMTK pays only its own process per file.
    each = "for f; do b=${f##*/}; dcm2pnm --write-png +Wi 1 \"$f\" " + f"{out}/dcmtk/" + "${b%.dcm}.png || exit 1; done"
    dcmtk_loop = f"set -- {series_dir}/*.dcm; {each}"
    batch = -(-len(files) // cores)
    dcmtk_xargs = f"ls {series_dir}/*.dcm | xargs -P {cores} -n {batch} bash -c '{each}' _"
    cases = [
        ("ours, 1 thread", [str(TOOL), "series", str(out / "ours"), str(series_dir), "--threads", "1"], False),
        (f"ours, {cores} threads", [str(TOOL), "series", str(out / "ours"), str(series_dir), "--threads", str(cores)], False),
        ("dcm2pnm, sequential", dcmtk_loop, True),
        (f"dcm2pnm, xargs -P {cores}", dcmtk_xargs, True),
    ]
    best = {name: float("inf") for name, _, _ in cases}
    for _ in range(args.repeat):
        for name, cmd, shell in cases:
            shutil.rmtree(out, ignore_errors=True)
            (out / "dcmtk").mkdir(parents=True)
            dt, stdout = run(cmd, shell)
            if not shell and not re.search(rf"instances={len(files)} failed=0", stdout):
                sys.exit(f"{name}: unexpected output {stdout!r}")
            if shell and len(list((out / "dcmtk").iterdir())) != len(files):
                sys.exit(f"{name}: wrote {len(list((out / 'dcmtk').iterdir()))} PNGs, expected {len(files)}")
            best[name] = min(best[name], dt)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"{len(files)} slices 512x512 16-bit, best of {args.repeat}, wall seconds (process start to exit)")
    print(f"uptime: {load}")
    print("| run | seconds | slices/s |")
    print("|---|---:|---:|")
    for name, _, _ in cases:
        print(f"| {name} | {best[name]:.2f} | {len(files) / best[name]:.0f} |")
    o1, on = best["ours, 1 thread"], best[f"ours, {cores} threads"]
    d1, dn = best["dcm2pnm, sequential"], best[f"dcm2pnm, xargs -P {cores}"]
    print(f"ratio DCMTK/ours, 1 core: {d1 / o1:.1f}x; all {cores} cores: {dn / on:.1f}x; "
          f"our scaling 1->{cores} threads: {o1 / on:.2f}x")


if __name__ == "__main__":
    main()
