#!/usr/bin/env python3
"""Writes seed inputs for dimse_stream to corpus/dimse_stream/: what storescu and echoscu send
(A-ASSOCIATE-RQ, C-ECHO-RQ, C-STORE-RQ with a data set, commands in several fragments, A-RELEASE-RQ),
built here by hand so that no reference tool is needed. Never committed."""
import os
import struct

OUT = os.path.join(os.path.dirname(__file__) or ".", "corpus", "dimse_stream")


def item(kind, body):
    return struct.pack(">BBH", kind, 0, len(body)) + body


def pdu(kind, body):
    return struct.pack(">BBI", kind, 0, len(body)) + body


def ae(title):
    return title.ljust(16).encode()


def associate_rq(contexts):
    body = struct.pack(">HH", 1, 0) + ae("HUB") + ae("CT1") + bytes(32)
    body += item(0x10, b"1.2.840.10008.3.1.1.1")
    for pc_id, abstract, syntaxes in contexts:
        sub = item(0x30, abstract.encode()) + b"".join(item(0x40, ts.encode()) for ts in syntaxes)
        body += item(0x20, struct.pack(">BBBB", pc_id, 0, 0, 0) + sub)
    user = item(0x51, struct.pack(">I", 16384)) + item(0x52, b"1.2.826.0.1.3680043.2.1143.107.104.103.115")
    body += item(0x50, user)
    return pdu(0x01, body)


def element(tag, value):
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", 0, tag, len(value)) + value


def us(tag, v):
    return element(tag, struct.pack("<H", v))


def command(field, msg_id, sop_class, sop_instance=None, data_set=False):
    body = element(0x0002, sop_class.encode()) + us(0x0100, field) + us(0x0110, msg_id)
    body += us(0x0800, 0x0001 if data_set else 0x0101)
    if sop_instance:
        body += element(0x1000, sop_instance.encode())
    return element(0x0000, struct.pack("<I", len(body))) + body


def pdv(pc, header, data):
    return struct.pack(">IB", len(data) + 2, pc) + bytes([header]) + data


def pdata(*values):
    return pdu(0x04, b"".join(values))


RELEASE = pdu(0x05, bytes(4))
CT = "1.2.840.10008.5.1.4.1.1.2"


def seeds():
    rq = associate_rq([(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"]),
                       (3, CT, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])])
    echo = command(0x0030, 1, "1.2.840.10008.1.1")
    store = command(0x0001, 2, CT, "1.2.3.4.5.6", data_set=True)
    data_set = struct.pack("<HHI", 0x0008, 0x0018, 12) + b"1.2.3.4.5.6\0"
    yield "echo", rq + pdata(pdv(1, 0x03, echo)) + RELEASE
    yield "store", rq + pdata(pdv(3, 0x03, store)) + pdata(pdv(3, 0x00, data_set[:8]), pdv(3, 0x02, data_set[8:])) + RELEASE
    half = len(store) // 2
    yield "fragments", rq + pdata(pdv(3, 0x01, store[:half])) + pdata(pdv(3, 0x03, store[half:])) + RELEASE
    yield "abort", rq + pdu(0x07, bytes(4))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, stream in seeds():
        # Maximum PDU 16 KiB-ish, pieces of 7 × 20 bytes.
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([0xFF, 20]) + stream)
    print(f"seeds in {OUT}")


if __name__ == "__main__":
    main()
