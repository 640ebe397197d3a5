#!/usr/bin/env python3
"""Decodes DICOM files with reference decoders nobody in this project wrote, for the
conformance test (tests/conformance.rs).

usage: ref_decode.py OUT_DIR FILE...

For each file, every reference that applies to its transfer syntax is tried:
  dcmtk   dcmdjpeg / dcmdjpls / dcmdrle / dcmconv +te to an uncompressed file, read by pydicom
  gdcm    gdcmconv --raw to an uncompressed file, read by pydicom
  pydicom pydicom's own pixel handlers with the pylibjpeg plugins (numpy)
The uncompressed outputs are read with pydicom's native (numpy) reader, with no colour
conversion: what is compared is what the reference decoder produced. Samples are written as
little-endian int64, shaped (frames, rows, columns, samples per pixel); OUT_DIR/manifest.json
describes them.
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom.pixels import pixel_array  # noqa: E402

NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
JPEG = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
JPEG_LS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
RLE = {"1.2.840.10008.1.2.5"}


def dcmtk_tool(ts):
    if ts in JPEG:
        return ["dcmdjpeg"]
    if ts in JPEG_LS:
        return ["dcmdjpls"]
    if ts in RLE:
        return ["dcmdrle"]
    if ts in NATIVE:
        return ["dcmconv", "+te"]
    return None


def shaped(arr, ds):
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    spp = int(ds.get("SamplesPerPixel", 1))
    return np.asarray(arr).reshape(frames, int(ds.Rows), int(ds.Columns), spp)


def read_native(path):
    ds = pydicom.dcmread(path)
    arr = pixel_array(ds, as_rgb=False)
    return shaped(arr, ds), str(ds.get("PhotometricInterpretation", ""))


def convert_with(cmd, src, tmp):
    out = os.path.join(tmp, "out.dcm")
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run(cmd + [src, out], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not os.path.exists(out):
        raise RuntimeError((r.stderr or r.stdout).strip().splitlines()[-1:] or ["failed"])
    return read_native(out)


def by_pydicom(src):
    ds = pydicom.dcmread(src, force=True)
    if "TransferSyntaxUID" not in ds.file_meta:
        # No meta group: pydicom's reader has already guessed the encoding of the data set.
        ds.file_meta.TransferSyntaxUID = (
            pydicom.uid.ImplicitVRLittleEndian if ds.is_implicit_VR else
            pydicom.uid.ExplicitVRLittleEndian if ds.is_little_endian else pydicom.uid.ExplicitVRBigEndian)
    arr = pixel_array(ds, as_rgb=False)
    return shaped(arr, ds), str(ds.get("PhotometricInterpretation", ""))


def references(ts):
    """The references for a transfer syntax, most trusted first (the first that decodes is the
    one the test holds us to; the others are reported for information)."""
    dcmtk = []
    tool = dcmtk_tool(ts) or (["dcmconv", "+te"] if ts == "" else None)
    if tool:
        dcmtk = [("dcmtk:" + tool[0], lambda s, t, tool=tool: convert_with(tool, s, t))]
    gdcm = [("gdcmconv", lambda s, t: convert_with(["gdcmconv", "--raw"], s, t))]
    pyd = [("pydicom", lambda s, t: by_pydicom(s))]
    if ts in NATIVE:
        return pyd + dcmtk + gdcm
    return dcmtk + gdcm + pyd


def has_pixels(f):
    try:
        ds = pydicom.dcmread(f, force=True, stop_before_pixels=False, specific_tags=["PixelData"])
        return "PixelData" in ds
    except Exception:  # noqa: BLE001
        return True  # let the references say what is wrong


def main():
    out_dir, files = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(files):
            entry = {"file": f, "results": []}
            try:
                ds = pydicom.dcmread(f, stop_before_pixels=True, force=True)
                ts = str(ds.file_meta.get("TransferSyntaxUID", ""))
            except Exception:  # noqa: BLE001
                ts = ""
            entry["ts"] = ts
            if not has_pixels(f):
                entry["results"].append({"tool": "pydicom", "ok": False, "message": "no Pixel Data"})
                manifest.append(entry)
                continue
            for j, (name, fn) in enumerate(references(ts)):
                res = {"tool": name}
                try:
                    arr, pi = fn(f, tmp)
                    path = os.path.join(out_dir, f"{i}_{j}.bin")
                    arr.astype("<i8").tofile(path)
                    res.update(ok=True, shape=list(arr.shape), photometric=pi, data=path, dtype=str(arr.dtype))
                except Exception as e:  # noqa: BLE001
                    res.update(ok=False, message=str(e)[:200])
                entry["results"].append(res)
            manifest.append(entry)
    with open(os.path.join(out_dir, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)


if __name__ == "__main__":
    main()
