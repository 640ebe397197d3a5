"""A real DICOMweb client (the `dicomweb-client` package) against a running hub.

Run by tests/tests/dicomweb.rs against `hub serve --demo`. Stores corpus files with STOW-RS as a
township clinic, then searches, retrieves metadata, instances, frames and bulk data as the county
specialist and compares them with the files (byte for byte) and with pydicom's decoding (pixel
for pixel); checks that another institution's clinic and an administrator see nothing.
Exits non-zero, naming the check, on the first failure. Usage:

    python3 dicomweb_peer.py BASE_URL CORPUS_DIR SAMPLE_DIR
    python3 dicomweb_peer.py BASE_URL CORPUS_DIR --store-only
"""

import io
import sys
import time

try:
    import numpy as np
    import pydicom
    from pydicom.encaps import generate_frames
    from dicomweb_client.api import DICOMwebClient
    from requests.exceptions import HTTPError
except ImportError as e:  # the test must fail, not skip, without its peer
    sys.exit(f"missing Python package ({e}): run scripts/ci-deps/dicomweb.sh")

BASE, CORPUS, SAMPLES = sys.argv[1], sys.argv[2], sys.argv[3]
EXPLICIT_LE = "1.2.840.10008.1.2.1"
FILES = {
    "us": f"{CORPUS}/dicom/pydicom-test-files/examples_ybr_color.dcm",  # 30-frame JPEG ultrasound
    "jls": f"{CORPUS}/dicom/pydicom-test-files/MR_small_jpeg_ls_lossless.dcm",
    "ecg": f"{CORPUS}/ecg/dicom/mortara-eli250_pydicom/waveform_ecg.dcm",
}


def client(token):
    return DICOMwebClient(url=BASE, headers={"Authorization": f"Bearer {token}"})


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def value(item, tag):
    return item[tag]["Value"][0]


def status_of(call):
    try:
        call()
    except HTTPError as e:
        return e.response.status_code
    return 200


def raw_instance(c, url):
    """The parts of a retrieve, as dicomweb-client's own multipart decoder reads them."""
    accept = 'multipart/related; type="application/dicom"; transfer-syntax=*'
    response = c._http_get(url, headers={"Accept": accept})
    return list(c._decode_multipart_message(response, stream=False))


def stored_bytes(ds):
    """What dicomweb-client sends for a data set (it writes each with pydicom.dcmwrite)."""
    b = io.BytesIO()
    pydicom.dcmwrite(b, ds)
    return b.getvalue()


def stow(clinic):
    datasets = {k: pydicom.dcmread(p) for k, p in FILES.items()}
    response = clinic.store_instances(list(datasets.values()))
    refs = response.get("ReferencedSOPSequence", [])
    check(len(refs) == len(datasets) and "FailedSOPSequence" not in response,
          f"STOW-RS stored all {len(datasets)} corpus instances")
    again = clinic.store_instances([datasets["jls"]])
    check(len(again.ReferencedSOPSequence) == 1, "storing the same bytes again is a duplicate, not a failure")
    return datasets


def stow_partly(token):
    """One good part and one that is not DICOM: 202, each part's outcome in the answer."""
    import requests
    good = stored_bytes(pydicom.dcmread(f"{CORPUS}/dicom/pydicom-test-files/CT_small.dcm"))
    boundary = "b0undary" + "7" * 24
    body = b"".join(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part + b"\r\n"
                    for part in (good, b"this is not a DICOM file")) + f"--{boundary}--\r\n".encode()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/dicom+json",
               "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'}
    answer = requests.post(f"{BASE}/studies", data=body, headers=headers, timeout=60)
    check(answer.status_code == 202, f"STOW-RS with one bad part: 202 ({answer.status_code})")
    reply = answer.json()
    check(len(reply["00081199"]["Value"]) == 1, "the good part is in ReferencedSOPSequence")
    failed = reply["00081198"]["Value"]
    check(len(failed) == 1 and failed[0]["00081197"]["Value"] == [0xC000],
          "the bad part is in FailedSOPSequence, reason C000")
    other = requests.post(f"{BASE}/studies/1.2.3.4.5", data=body, headers=headers, timeout=60)
    check(other.status_code == 409, f"STOW-RS into another study's URL: 409 ({other.status_code})")


def searches(spec, datasets):
    us = datasets["us"]
    found = spec.search_for_studies(search_filters={"StudyInstanceUID": us.StudyInstanceUID})
    check(len(found) == 1, "study found by StudyInstanceUID")
    study = found[0]
    for tag in ("00201206", "00201208", "00080061", "00100010", "00100020"):
        check(tag in study, f"study result carries {tag}")
    check(value(study, "00201208") == 1 and "US" in study["00080061"]["Value"], "counts and modalities")
    everything = spec.search_for_studies()
    check(len(everything) >= 6, f"the specialist sees every study ({len(everything)})")
    page = spec.search_for_studies(limit=2, offset=1)
    check([s["0020000D"] for s in page] == [s["0020000D"] for s in everything[1:3]], "limit/offset page")
    modality = spec.search_for_studies(search_filters={"ModalitiesInStudy": "US"})
    check({value(s, "0020000D") for s in modality} == {us.StudyInstanceUID}, "ModalitiesInStudy=US")
    name = str(datasets["jls"].PatientName)
    fuzzy = spec.search_for_studies(search_filters={"PatientName": name.split("^")[0][:3].lower()}, fuzzymatching=True)
    check(datasets["jls"].StudyInstanceUID in {value(s, "0020000D") for s in fuzzy}, f"fuzzy PatientName {name}")
    wild = spec.search_for_studies(search_filters={"PatientName": "*" + name[1:4] + "*"})
    check(datasets["jls"].StudyInstanceUID in {value(s, "0020000D") for s in wild}, "wildcard PatientName")
    day = us.StudyDate
    dated = spec.search_for_studies(search_filters={"StudyDate": f"{day}-{day}"})
    check(us.StudyInstanceUID in {value(s, "0020000D") for s in dated}, "StudyDate range")
    series = spec.search_for_series(us.StudyInstanceUID)
    check(len(series) == 1 and value(series[0], "00201209") == 1, "series search with 00201209")
    inst = spec.search_for_instances(us.StudyInstanceUID, us.SeriesInstanceUID)
    check(value(inst[0], "00080018") == us.SOPInstanceUID, "instance search")
    included = spec.search_for_studies(search_filters={"StudyInstanceUID": us.StudyInstanceUID}, fields=["all"])
    check("00100030" in included[0] or "00100040" in included[0], "includefield=all")


def metadata(spec, datasets):
    for key, ds in datasets.items():
        md = spec.retrieve_series_metadata(ds.StudyInstanceUID, ds.SeriesInstanceUID)
        check(len(md) == 1 and value(md[0], "00080018") == ds.SOPInstanceUID, f"{key}: series metadata")
        check("InlineBinary" not in md[0].get("7FE00010", {}), f"{key}: no pixel data inline")
        if "PixelData" in ds:
            check("BulkDataURI" in md[0]["7FE00010"], f"{key}: Pixel Data by BulkDataURI")
    ecg = datasets["ecg"]
    md = spec.retrieve_series_metadata(ecg.StudyInstanceUID, ecg.SeriesInstanceUID)[0]
    uri = md["54000100"]["Value"][0]["54001010"]["BulkDataURI"]
    origin = BASE.split("/dicomweb")[0]
    waveform = spec.retrieve_bulkdata(origin + uri)[0]
    check(waveform == ecg.WaveformSequence[0].WaveformData, "ECG waveform data through its BulkDataURI")
    study = spec.retrieve_study_metadata(datasets["us"].StudyInstanceUID)
    check(len(study) == 1, "study metadata")
    page = None
    for _ in range(120):  # the worker draws the 12-lead page once the case is queued
        try:
            page = spec.retrieve_instance_rendered(ecg.StudyInstanceUID, ecg.SeriesInstanceUID, ecg.SOPInstanceUID,
                                                   media_types=("image/png",))
            break
        except HTTPError as e:
            if e.response.status_code != 409:
                raise
            time.sleep(0.5)
    check(page is not None and page[:8] == b"\x89PNG\r\n\x1a\n", "the ECG rendered as the hub's 12-lead page")


def instances_and_frames(spec, datasets):
    for key, ds in datasets.items():
        url = f"{BASE}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"
        parts = raw_instance(spec, url)
        check(parts == [stored_bytes(ds)], f"{key}: instance retrieved byte for byte")
        again = spec.retrieve_instance(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        check(again.SOPInstanceUID == ds.SOPInstanceUID, f"{key}: retrieve_instance parses")
    for key in ("us", "jls"):
        ds = datasets[key]
        n = int(ds.get("NumberOfFrames", 1))
        numbers = list(range(1, n + 1))
        uids = (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        stored = spec.retrieve_instance_frames(*uids, frame_numbers=numbers,
                                               media_types=(("application/octet-stream", "*"),))
        original = list(generate_frames(ds.PixelData, number_of_frames=n))
        check(stored == original, f"{key}: {n} frames in the stored transfer syntax, byte for byte")
        decoded = spec.retrieve_instance_frames(*uids, frame_numbers=numbers,
                                                media_types=(("application/octet-stream", EXPLICIT_LE),))
        pixels = ds.pixel_array.reshape((n,) + ds.pixel_array.shape[-3 + (ds.SamplesPerPixel == 1):])
        dtype = pixels.dtype.newbyteorder("<")
        got = np.stack([np.frombuffer(f, dtype=dtype).reshape(pixels.shape[1:]) for f in decoded])
        if key == "us":  # lossy JPEG: decoders differ by a few levels in chroma upsampling and rounding
            diff = np.abs(got.astype(int) - pixels.astype(int))
            check(diff.max() <= 4 and diff.mean() < 0.5, f"{key}: decoded frames match pydicom's (max {diff.max()}, mean {diff.mean():.3f})")
        else:
            check(np.array_equal(got, pixels), f"{key}: decoded frames equal pydicom's, pixel for pixel")
    png = spec.retrieve_instance_rendered(*uids, media_types=("image/png",))
    check(png[:8] == b"\x89PNG\r\n\x1a\n", "rendered as PNG")


def demo_ct(spec):
    ct = f"{SAMPLES}/baishui/zhang-san-ct-head/CT0001.dcm"
    ds = pydicom.dcmread(ct)  # the demo seeds it with today's dates: same pixels, other bytes
    url = f"{BASE}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"
    got = pydicom.dcmread(io.BytesIO(raw_instance(spec, url)[0]))
    check(np.array_equal(got.pixel_array, ds.pixel_array), "the demo CT slice retrieved")
    series = spec.retrieve_series_metadata(ds.StudyInstanceUID, ds.SeriesInstanceUID)
    check(len(series) > 1, f"the demo CT series metadata ({len(series)} slices)")
    frame = spec.retrieve_instance_frames(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                                          frame_numbers=[1])[0]
    check(np.array_equal(np.frombuffer(frame, dtype=ds.pixel_array.dtype.newbyteorder("<")).reshape(ds.pixel_array.shape),
                         ds.pixel_array), "a demo CT frame pixel for pixel")


def others(datasets):
    us = datasets["us"]
    other = client("demo-clinic-b")
    check(other.search_for_studies(search_filters={"StudyInstanceUID": us.StudyInstanceUID}) == [],
          "another institution's clinic finds nothing")
    check(status_of(lambda: other.retrieve_series_metadata(us.StudyInstanceUID, us.SeriesInstanceUID)) == 404,
          "another institution's clinic: 404")
    admin = client("demo-admin")
    check(status_of(lambda: admin.retrieve_study_metadata(us.StudyInstanceUID)) == 403, "administrator refused: 403")
    check(status_of(lambda: client("demo-specialist").store_instances([datasets["jls"]])) == 403,
          "a specialist does not upload: 403")
    check(status_of(lambda: client("not-a-token").search_for_studies()) == 401, "unknown token: 401")


def main():
    datasets = stow(client("demo-clinic-a"))
    if SAMPLES == "--store-only":
        return
    stow_partly("demo-clinic-a")
    spec = client("demo-specialist")
    searches(spec, datasets)
    metadata(spec, datasets)
    instances_and_frames(spec, datasets)
    demo_ct(spec)
    others(datasets)
    print("all DICOMweb checks passed")


main()
