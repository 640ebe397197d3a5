#!/usr/bin/env python3
"""OHIF's first image of a 300-slice CT on loopback: how long from opening
/viewer?StudyInstanceUIDs=... until the viewport shows the image, in real headless Chromium.

Makes the series as bench/imaging/preview_ct.py does (the corpus CT 693_UNCR.dcm, 512x512 16-bit,
N copies with fresh UIDs and rolled rows; files in /tmp), starts `hub serve --demo` in a fresh
data directory, stores the series with DCMTK's storescu (/usr/bin) as the demo's first township, then runs
tests/py/ohif_viewer.py as the demo specialist, opening the study twice in one browser: cold (no
cached scripts, metadata computed on first request) and warm (the browser's cache and the hub's
kept metadata). The driver polls the viewport's pixels every 0.1 s, so times are to ~0.1 s and
include OHIF's own start-up (its scripts, about 20 MB, on the cold open).

    python3 bench/ohif/first_image.py [--slices 300] [--hub target/release/hub]

Needs DCMTK, pydicom + numpy, Chromium + chromedriver + Selenium + Pillow
(scripts/ci-deps/browser.sh) and the viewer (scripts/fetch-ohif.sh).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "imaging"))
from preview_ct import make_series  # noqa: E402

WORK = Path("/tmp/remotedx-ohif-first-image")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_hub(binary, data):
    http, grpc, dicom = free_port(), free_port(), free_port()
    env = dict(os.environ, REMOTEDX_HUB_VIEWER__DIST_DIR=str(ROOT / "web" / "ohif" / "dist"),
               RUST_LOG="warn")
    hub = subprocess.Popen(
        [binary, "--data-dir", str(data), "serve", "--demo", "--listen", f"127.0.0.1:{grpc}",
         "--dicom-listen", f"127.0.0.1:{dicom}", "--http-listen", f"127.0.0.1:{http}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    for line in hub.stdout:
        if line.startswith("hub listening on"):
            break
    return hub, http, dicom


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--hub", default=str(ROOT / "target" / "release" / "hub"))
    a = ap.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    series = WORK / "series"
    series.mkdir(parents=True)
    make_series(a.slices, series)
    import pydicom
    study = pydicom.dcmread(next(series.iterdir()), stop_before_pixels=True).StudyInstanceUID
    data = Path(tempfile.mkdtemp(prefix="hub-", dir=WORK))
    hub, http, dicom = start_hub(a.hub, data)
    try:
        subprocess.run(["/usr/bin/storescu", "-aet", "BENCH_CT", "-aec", "REMOTEDX", "+sd", "127.0.0.1",
                        str(dicom), str(series)], check=True)
        time.sleep(2)
        shots = WORK / "shots"
        shots.mkdir()
        out = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "py" / "ohif_viewer.py"), "--base",
             f"http://127.0.0.1:{http}", "--token", "demo-specialist", "--out", str(shots),
             "--poll", "0.1", study, study],
            capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"the viewer check failed:\n{out.stdout}\n{out.stderr}")
        cold, warm = (json.loads(l) for l in out.stdout.splitlines())
        for name, run in (("cold", cold), ("warm", warm)):
            print(f"{a.slices}-slice CT ({run['slice'][1]} slices in OHIF), {name}: first image "
                  f"{run['first_image_s']} s after navigating; page scripts ready (DOMContentLoaded) "
                  f"{run['page']['dom_ready_s']} s; study request to image "
                  f"{run['page']['study_to_image_s']} s")
            print("  DICOMweb requests by kind (seconds from navigation):",
                  json.dumps(run["page"]["dicomweb"]))
    finally:
        hub.terminate()
        hub.wait()


if __name__ == "__main__":
    main()
