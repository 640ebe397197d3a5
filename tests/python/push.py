"""Pushes DICOM files to an SCP with pynetdicom, the data sets sent byte for byte as they are in
the files (no decoding, no transcoding), over several concurrent associations.

usage: push.py HOST PORT CALLING_AE CALLED_AE ASSOCIATIONS FILE...

Files are dealt round-robin to ASSOCIATIONS associations that run at once. Prints one JSON object:
{"results": [{"file", "status", "comment"}...], "associations": [{"accepted", "detail"}...]}; a
status of -1 means no response arrived. Used by tests/tests/dicom_scp.rs."""

import json
import sys
import threading

from pydicom.filereader import read_file_meta_info
from pynetdicom import AE, _config

_config.STORE_SEND_CHUNKED_DATASET = True  # send the file's own bytes


def push(host, port, calling, called, files, results, assocs):
    ae = AE(ae_title=calling)
    ae.acse_timeout = 30
    ae.dimse_timeout = 120
    ae.network_timeout = 120
    contexts = []
    for f in files:
        meta = read_file_meta_info(f)
        pair = (str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID))
        if pair not in contexts:
            contexts.append(pair)
    for sop, ts in contexts[:128]:
        ae.add_requested_context(sop, ts)
    assoc = ae.associate(host, port, ae_title=called)
    if not assoc.is_established:
        detail = "rejected" if assoc.is_rejected else "aborted or refused"
        assocs.append({"accepted": False, "detail": detail})
        for f in files:
            results.append({"file": f, "status": -1, "comment": detail})
        return
    assocs.append({"accepted": True, "detail": ""})
    for i, f in enumerate(files):
        try:
            status = assoc.send_c_store(f, msg_id=i + 1)
        except Exception as e:  # no accepted context, ...
            results.append({"file": f, "status": -1, "comment": str(e)})
            continue
        code = int(status.Status) if "Status" in status else -1
        comment = str(status.get("ErrorComment", ""))
        results.append({"file": f, "status": code, "comment": comment})
    assoc.release()


def main():
    host, port, calling, called, n = sys.argv[1:6]
    files = sys.argv[6:]
    n = max(1, int(n))
    results, assocs = [], []
    threads = [
        threading.Thread(
            target=push,
            args=(host, int(port), calling, called, files[i::n], results, assocs),
        )
        for i in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump({"results": results, "associations": assocs}, sys.stdout)


if __name__ == "__main__":
    main()
