"""Every DICOMweb route for every role: the HTTP side of tests/tests/auth_matrix.rs.

Run by tests/tests/dicomweb.rs after dicomweb_peer.py stored the corpus files as the demo's
township clinic A. Each route is asked by every demo user and by nobody, and must answer the
status of its row. A route added to hub/src/transport/http/mod.rs needs a row here.
Usage: python3 dicomweb_matrix.py BASE_URL CORPUS_DIR
"""

import io
import sys
import uuid

try:
    import pydicom
    import requests
except ImportError as e:
    sys.exit(f"missing Python package ({e}): run scripts/ci-deps/dicomweb.sh")

BASE, CORPUS = sys.argv[1], sys.argv[2]
ds = pydicom.dcmread(f"{CORPUS}/dicom/pydicom-test-files/examples_ybr_color.dcm")
ST, SE, I = ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
INST = f"studies/{ST}/series/{SE}/instances/{I}"

SEARCH = ["studies", "series", "instances", f"studies/{ST}/series", f"studies/{ST}/instances",
          f"studies/{ST}/series/{SE}/instances"]
RETRIEVE = [f"studies/{ST}", f"studies/{ST}/metadata", f"studies/{ST}/rendered", f"studies/{ST}/thumbnail", f"studies/{ST}/series/{SE}",
            f"studies/{ST}/series/{SE}/metadata", f"studies/{ST}/series/{SE}/thumbnail",
            f"studies/{ST}/series/{SE}/rendered", INST,
            f"{INST}/metadata", f"{INST}/frames/1", f"{INST}/frames/1/rendered", f"{INST}/rendered",
            f"{INST}/thumbnail", f"{INST}/bulkdata/7FE00010"]
STORE = ["studies", f"studies/{ST}"]

# Expected status by user for (kind of route). Study-scoped searches are retrieves of a study
# for clinic B (it may not know the study exists: 404).
EXPECTED = {
    None: {"search": 401, "scoped": 401, "retrieve": 401, "store": 401},
    "demo-clinic-a": {"search": 200, "scoped": 200, "retrieve": 200, "store": 200},
    "demo-clinic-b": {"search": 200, "scoped": 404, "retrieve": 404, "store": 409},
    "demo-specialist": {"search": 200, "scoped": 200, "retrieve": 200, "store": 403},
    "demo-senior": {"search": 200, "scoped": 200, "retrieve": 200, "store": 403},
    "demo-admin": {"search": 403, "scoped": 403, "retrieve": 403, "store": 403},
    "demo-worker": {"search": 403, "scoped": 403, "retrieve": 403, "store": 403},
}

ACCEPT = {"metadata": "application/dicom+json", "rendered": "image/png", "thumbnail": "image/png",
          "frames": 'multipart/related; type="application/octet-stream"; transfer-syntax=*',
          "bulkdata": "multipart/related; type=application/octet-stream"}


def body():
    b = io.BytesIO()
    pydicom.dcmwrite(b, ds)
    boundary = uuid.uuid4().hex
    data = (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + b.getvalue()
            + f"\r\n--{boundary}--\r\n".encode())
    return data, f'multipart/related; type="application/dicom"; boundary={boundary}'


def ask(method, path, token):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    last = path.rsplit("/", 2)
    headers["Accept"] = next((v for k, v in ACCEPT.items() if k in last), "*/*")
    if method == "POST":
        data, ct = body()
        headers.update({"Content-Type": ct, "Accept": "application/dicom+json"})
        return requests.post(f"{BASE}/{path}", data=data, headers=headers, timeout=60).status_code
    return requests.get(f"{BASE}/{path}", headers=headers, timeout=60).status_code


failures = []
rows = [("GET", p, "search") for p in SEARCH[:3]] + [("GET", p, "scoped") for p in SEARCH[3:]]
rows += [("GET", p, "retrieve") for p in RETRIEVE] + [("POST", p, "store") for p in STORE]
for method, path, kind in rows:
    for token, expected in EXPECTED.items():
        got = ask(method, path, token)
        if got != expected[kind]:
            failures.append(f"{method} /{path} as {token or 'nobody'}: {got}, expected {expected[kind]}")
print(f"{len(rows)} routes x {len(EXPECTED)} callers")
if failures:
    sys.exit("FAILED:\n" + "\n".join(failures))
print("every route answered every caller as expected")
