"""DICOMweb side by side: the hub and Orthanc with its DICOMweb plugin, same data, same machine.

Starts both (temporary data directories, loopback), stores the same set into each with STOW-RS
(a 300-slice 512x512 16-bit CT series, and STUDIES one-instance studies), then times what a
viewer does:
  - series metadata of the CT: cold (first request) and warm (median of 10);
  - all 300 frames of the CT, one request per frame as OHIF asks, 6 at a time (like a browser);
  - QIDO of the studies: the first page (limit=101, what OHIF's study list asks), a PatientName
    search over all of them, an exact PatientID of one of the oldest studies, and one study by
    StudyInstanceUID (median of 5 each).
Prints a Markdown table with the ratios (Orthanc time / hub time) and how many studies each
search found.

    python3 bench/dicomweb/compare.py                       # HUB=target/release/hub
    HUB=target/debug/hub STUDIES=2000 python3 bench/dicomweb/compare.py

Needs: orthanc, orthanc-dicomweb, python3 with pydicom, numpy, requests (scripts/ci-deps/dicomweb.sh).
"""

import concurrent.futures as cf
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np
import pydicom
import requests
from pydicom.uid import generate_uid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUB = os.environ.get("HUB", f"{ROOT}/target/release/hub")
SLICES = int(os.environ.get("SLICES", "300"))
STUDIES = int(os.environ.get("STUDIES", "10000"))
CT = f"{ROOT}/sample-data/files/baishui/zhang-san-ct-head/CT0001.dcm"
FRAME_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def start_hub(work):
    port = free_port()
    empty = os.path.join(work, "no-samples")
    os.makedirs(empty)
    env = dict(os.environ, REMOTEDX_HUB_JOBS__IN_PROCESS="false", RUST_LOG="warn")
    proc = subprocess.Popen([HUB, "--data-dir", os.path.join(work, "hub"), "serve", "--demo",
                             "--demo-data", empty, "--listen", "127.0.0.1:0", "--dicom-listen",
                             "127.0.0.1:0", "--http-listen", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}/dicomweb"


def start_orthanc(work):
    port, dicom = free_port(), free_port()
    config = os.path.join(work, "orthanc.json")
    with open(config, "w") as f:
        f.write(f'''{{"Name": "bench", "StorageDirectory": "{work}/orthanc", "IndexDirectory": "{work}/orthanc",
            "HttpPort": {port}, "DicomPort": {dicom}, "RemoteAccessAllowed": false,
            "AuthenticationEnabled": false,
            "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
            "DicomWeb": {{"Enable": true, "Root": "/dicom-web/"}}}}''')
    proc = subprocess.Popen(["Orthanc", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}/dicom-web"


def encode(ds):
    b = io.BytesIO()
    pydicom.dcmwrite(b, ds)
    return b.getvalue()


def ct_series():
    base = pydicom.dcmread(CT)
    pixels = np.tile(base.pixel_array, (2, 2)).astype(base.pixel_array.dtype)  # 512x512
    study, series = generate_uid(), generate_uid()
    for k in range(SLICES):
        ds = base.copy()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = k + 1
        ds.Rows, ds.Columns = pixels.shape
        ds.PixelData = np.roll(pixels, k, axis=0).tobytes()
        yield encode(ds)
    return study, series


def small_studies():
    base = pydicom.dcmread(CT)
    tiny = np.zeros((16, 16), dtype=base.pixel_array.dtype)
    for k in range(STUDIES):
        ds = base.copy()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.PatientName = f"BENCH^{k:05d}"
        ds.PatientID = f"B{k:07d}"
        ds.Rows = ds.Columns = 16
        ds.PixelData = tiny.tobytes()
        yield encode(ds)


def stow(url, headers, files, batch=100):
    files = list(files)
    for i in range(0, len(files), batch):
        boundary = uuid.uuid4().hex
        body = b"".join(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + f + b"\r\n"
                        for f in files[i:i + batch]) + f"--{boundary}--\r\n".encode()
        h = dict(headers, **{"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                             "Accept": "application/dicom+json"})
        r = requests.post(f"{url}/studies", data=body, headers=h, timeout=600)
        if r.status_code != 200:
            sys.exit(f"STOW to {url} answered {r.status_code}: {r.text[:300]}")


def timed(fn, repeat=1):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def get(url, headers, accept, **params):
    r = requests.get(url, headers=dict(headers, Accept=accept, **{"Accept-Encoding": "gzip"}),
                     params=params, timeout=600)
    if r.status_code != 200:
        sys.exit(f"{url} answered {r.status_code}: {r.text[:300]}")
    return r


def measure(name, url, headers, study, series, sops, first_name):
    s = requests.Session()
    found = {}

    def qido(key, **params):
        r = None

        def run():
            nonlocal r
            r = get(f"{url}/studies", headers, "application/dicom+json", **params)
        t = timed(run, 5)
        found[key] = len(r.json()) if r.content else 0
        return t
    md = f"{url}/studies/{study}/series/{series}/metadata"
    out = {"metadata, cold": timed(lambda: get(md, headers, "application/dicom+json")),
           "metadata, warm (median of 10)": timed(lambda: get(md, headers, "application/dicom+json"), 10)}

    def frame(sop):
        r = s.get(f"{url}/studies/{study}/series/{series}/instances/{sop}/frames/1",
                  headers=dict(headers, Accept=FRAME_ACCEPT), timeout=600)
        assert r.status_code == 200, r.status_code

    def frames():
        with cf.ThreadPoolExecutor(6) as pool:
            list(pool.map(frame, sops))
    out[f"all {len(sops)} frames, 6 at a time"] = timed(frames)
    out["QIDO first page (limit=101)"] = qido("QIDO first page (limit=101)", limit=101)
    out["QIDO PatientName=BENCH^0424*"] = qido("QIDO PatientName=BENCH^0424*", PatientName="BENCH^0424*")
    out["QIDO PatientID=B0000424"] = qido("QIDO PatientID=B0000424", PatientID="B0000424")
    out["QIDO StudyInstanceUID"] = qido("QIDO StudyInstanceUID", StudyInstanceUID=study)
    return out, found


def main():
    work = tempfile.mkdtemp(prefix="dicomweb-bench.")
    hub, hub_url = start_hub(work)
    orthanc, orthanc_url = start_orthanc(work)
    try:
        print(f"making {SLICES} CT slices and {STUDIES} small studies...", file=sys.stderr)
        gen = ct_series()
        ct = []
        while True:
            try:
                ct.append(next(gen))
            except StopIteration as done:
                study, series = done.value
                break
        small = list(small_studies())
        sops = [pydicom.dcmread(io.BytesIO(f), stop_before_pixels=True).SOPInstanceUID for f in ct]
        clinic = {"Authorization": "Bearer demo-clinic-a"}
        for url, h in ((hub_url, clinic), (orthanc_url, {})):
            t = time.perf_counter()
            stow(url, h, ct, batch=50)
            stow(url, h, small, batch=500)
            print(f"stored into {url} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        spec = {"Authorization": "Bearer demo-specialist"}
        hub_times, hub_found = measure("hub", hub_url, spec, study, series, sops, "hub")
        orthanc_times, orthanc_found = measure("Orthanc", orthanc_url, {}, study, series, sops, "Orthanc")
        print(f"| {SLICES}-slice CT, {STUDIES} studies | hub | Orthanc + DICOMweb | Orthanc / hub "
              "| studies found (hub / Orthanc) |")
        print("|---|---:|---:|---:|---:|")
        for key, h in hub_times.items():
            o = orthanc_times[key]
            n = f"{hub_found[key]} / {orthanc_found[key]}" if key in hub_found else ""
            print(f"| {key} | {h * 1000:.1f} ms | {o * 1000:.1f} ms | {o / h:.1f}x | {n} |")
    finally:
        for p in (hub, orthanc):
            p.terminate()
            p.wait()


main()
