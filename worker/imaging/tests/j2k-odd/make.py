"""Writes the synthetic JPEG 2000 codestreams that `src/codec/j2k/corpus_tests.rs` decodes in
bands: odd sizes, lossless (5/3) and lossy (9/7), grey and RGB with the colour transform,
signed, and one JP2 file, none of which the corpus has at odd sizes.

    python3 make.py   # needs numpy and pylibjpeg-openjpeg (`openjpeg`); deterministic
"""

import numpy as np
from openjpeg import encode

rng = np.random.default_rng(4)


def picture(rows, cols, bits, signed=False):
    y, x = np.mgrid[0:rows, 0:cols]
    top = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    smooth = (np.sin(x / 17.0) * np.cos(y / 23.0) + 1) / 2 * top * 0.8
    edges = ((x // 29 + y // 31) % 2) * top * 0.15
    noise = rng.integers(0, 8, size=(rows, cols))
    v = smooth + edges + noise
    if signed:
        v = v - top / 2
    return v


def write(name, arr, **kw):
    data = encode(arr, **kw)
    with open(name, "wb") as f:
        f.write(data)
    print(f"{name}: {arr.shape} {arr.dtype} {len(data)} bytes")


g = picture(259, 173, 12).astype(np.uint16)
write("gray12_173x259_lossless.j2k", g, bits_stored=12)
write("gray12_173x259_lossy.j2k", g, bits_stored=12, compression_ratios=[6])
s = picture(211, 97, 16, signed=True).astype(np.int16)
write("signed16_97x211_lossy.j2k", s, bits_stored=16, compression_ratios=[4])
rgb = np.stack([picture(187, 131, 8), picture(187, 131, 8)[::-1], picture(187, 131, 8)[:, ::-1]], -1)
rgb = rgb.clip(0, 255).astype(np.uint8)
write("rgb8_131x187_lossless_rct.j2k", rgb, photometric_interpretation=1)
write("rgb8_131x187_lossy_ict.j2k", rgb, photometric_interpretation=1, compression_ratios=[10])
write("rgb8_131x187_lossy_ict.jp2", rgb, photometric_interpretation=1, compression_ratios=[10], codec_format=1)
