"""Orthanc (with its DICOMweb plugin) pulls a whole study from the hub as from any DICOMweb
server, and ends up with the very instances the hub stores.

Run by tests/tests/dicomweb.rs with an Orthanc configured with the hub as DICOMweb server
"hub". The hub's blob store is content-addressed (a blob's name is its SHA-256), so every file
Orthanc received must be a blob of the hub, byte for byte.
Usage: python3 orthanc_pull.py ORTHANC_URL HUB_DICOMWEB_URL HUB_BLOB_DIR
"""

import hashlib
import os
import sys

try:
    import requests
    from dicomweb_client.api import DICOMwebClient
except ImportError as e:
    sys.exit(f"missing Python package ({e}): run scripts/ci-deps/dicomweb.sh")

ORTHANC, HUB, BLOBS = sys.argv[1], sys.argv[2], sys.argv[3]
hub = DICOMwebClient(url=HUB, headers={"Authorization": "Bearer demo-specialist"})
ct = hub.search_for_studies(search_filters={"ModalitiesInStudy": "CT"})
if len(ct) != 1:
    sys.exit(f"FAILED: expected the demo's one CT study, found {len(ct)}")
study = ct[0]["0020000D"]["Value"][0]
count = ct[0]["00201208"]["Value"][0]

answer = requests.post(f"{ORTHANC}/dicom-web/servers/hub/retrieve",
                       json={"Resources": [{"Study": study}]}, timeout=300)
if answer.status_code != 200:
    sys.exit(f"FAILED: Orthanc's retrieve from the hub answered {answer.status_code}: {answer.text}")
ids = requests.get(f"{ORTHANC}/instances", timeout=60).json()
if len(ids) != count:
    sys.exit(f"FAILED: Orthanc holds {len(ids)} instances of the study's {count}: {answer.text}")
for i in ids:
    data = requests.get(f"{ORTHANC}/instances/{i}/file", timeout=60).content
    key = hashlib.sha256(data).hexdigest()
    if not os.path.isfile(os.path.join(BLOBS, key[:2], key[2:4], key)):
        sys.exit(f"FAILED: Orthanc's instance {i} is not byte for byte one the hub stores")
print(f"Orthanc pulled study {study}: {count} instances, each identical to the hub's")
