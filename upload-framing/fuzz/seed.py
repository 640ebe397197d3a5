#!/usr/bin/env python3
"""Writes seed inputs for upload_stream to corpus/upload_stream/: what viewer-cli upload sends
(options, then start / chunks / end per file), plus streams out of order, encoded by hand as
length-delimited UploadRequest messages so that no protobuf library is needed. Never committed."""
import hashlib
import os

OUT = os.path.join(os.path.dirname(__file__) or ".", "corpus", "upload_stream")


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def request(number, body):
    msg = field(number, 2, body)
    return varint(len(msg)) + msg


def options(reason=b"", note=b""):
    return request(1, field(2, 0, 1) + field(3, 2, reason) + field(6, 2, note))


def start(name, size):
    return request(2, field(1, 2, name) + field(2, 0, size))


def chunk(data):
    return request(3, data)


def end(sha=b""):
    return request(4, field(1, 2, sha))


def upload(files):
    out = options("疑似卒中".encode(), b"note")
    for name, data in files:
        out += start(name, len(data))
        for i in range(0, len(data), 48):
            out += chunk(data[i:i + 48])
        out += end(hashlib.sha256(data).hexdigest().encode())
    return out


def seeds():
    ct = bytes(128) + b"DICM" + bytes(100)
    yield "two_files", upload([(b"ct/1.dcm", ct), (b"ecg/100.hea", b"100 2 360 650000\n")])
    yield "more_than_announced", start(b"a.dcm", 4) + chunk(b"abcdefgh") + end()
    yield "out_of_order", chunk(b"x") + end() + start(b"a.dcm", 1) + start(b"b.dcm", 1) + options()
    yield "cut_short", start(b"a.dcm", 100) + chunk(b"abc")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, stream in seeds():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([64]) + stream)  # files of at most 1 KiB
    print(f"seeds in {OUT}")


if __name__ == "__main__":
    main()
