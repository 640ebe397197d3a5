#!/usr/bin/env python3
"""Builds the fuzz seed corpora from the shared test corpus, at fuzz time (never committed).

    python3 seed.py [--max-bytes 262144]

decode_file gets whole small DICOM files; codec_<name> gets the first frame of every small file
in that codec's transfer syntaxes, prefixed with the 8-byte geometry header that
`worker_imaging::fuzzing::decode_codestream` reads. Reads $REMOTEDX_CORPUS (default
../shared/corpus from the workspace root); writes corpus/<target>/ next to this script.
"""
import argparse
import hashlib
import os
import struct
import sys
from pathlib import Path

import pydicom
from pydicom.encaps import generate_frames

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CORPUS = Path(os.environ.get("REMOTEDX_CORPUS", ROOT.parent / "shared" / "corpus"))

CODECS = {
    "codec_rle": {"1.2.840.10008.1.2.5"},
    "codec_jpeg": {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                   "1.2.840.10008.1.2.4.70"},
    "codec_jpegls": {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"},
    "codec_j2k": {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"},
}
PHOTOMETRIC = {"MONOCHROME1": 0, "MONOCHROME2": 1, "PALETTE COLOR": 3, "RGB": 4, "YBR_FULL": 5,
               "YBR_FULL_422": 6, "YBR_RCT": 7, "YBR_ICT": 7}
BITS = {8: 0, 16: 1, 1: 2, 32: 3}


def geometry(ds):
    """The 8-byte header decode_codestream reads (see src/fuzzing.rs)."""
    ba = int(ds.BitsAllocated)
    flags = (int(ds.get("PixelRepresentation", 0)) & 1) \
        | ((int(ds.get("PlanarConfiguration", 0)) & 1) << 1) \
        | ((4 if int(ds.SamplesPerPixel) == 3 else 0)) \
        | (BITS.get(ba, 0) << 3) \
        | (PHOTOMETRIC.get(str(ds.PhotometricInterpretation), 1) << 5)
    bs = (int(ds.get("BitsStored", ba)) - 1) % 256
    return struct.pack("<HHBBH", int(ds.Rows), int(ds.Columns), flags, bs, 0)


def save(target, data):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-bytes", type=int, default=256 * 1024)
    args = ap.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS} (set REMOTEDX_CORPUS)")
    counts = {}
    for f in sorted((CORPUS / "dicom").rglob("*.dcm")):
        if f.stat().st_size > args.max_bytes:
            continue
        data = f.read_bytes()
        save("decode_file", data)
        counts["decode_file"] = counts.get("decode_file", 0) + 1
        try:
            ds = pydicom.dcmread(f)
            ts = str(ds.file_meta.TransferSyntaxUID)
            target = next((t for t, uids in CODECS.items() if ts in uids), None)
            if target is None or "PixelData" not in ds:
                continue
            nf = int(ds.get("NumberOfFrames", 1) or 1)
            frame = next(generate_frames(ds.PixelData, number_of_frames=nf))
        except Exception as e:  # broken corpus files are seeds for decode_file only
            print(f"skip {f.name} for codec seeds: {e}", file=sys.stderr)
            continue
        save(target, geometry(ds) + frame)
        counts[target] = counts.get(target, 0) + 1
    for t, n in sorted(counts.items()):
        print(f"{t}: {n} seeds")


if __name__ == "__main__":
    main()
