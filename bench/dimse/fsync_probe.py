#!/usr/bin/env python3
"""How fast this disk makes things durable, to read the C-STORE numbers against.

    python3 bench/dimse/fsync_probe.py [DIR]        # DIR on the volume the hub writes to (/tmp)

Prints, on DIR's volume:
- a bare loop of 4 KiB pwrite + fsync on one file (one device cache flush each);
- 40 KiB file written, renamed into one of 256 directories, then the file and the directory
  fsynced one after the other (what a blob put costs done serially), and the same two fsyncs
  issued together from two threads (what the hub's blob store does), interleaved rounds.
The disk of a shared sandbox changes speed from minute to minute: run it just before and after a
benchmark and quote both.
"""
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

base = tempfile.mkdtemp(prefix="fsync-probe-", dir=sys.argv[1] if len(sys.argv) > 1 else "/tmp")
data = os.urandom(40 * 1024)
pool = ThreadPoolExecutor(2)


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def bare_loop(n=2000):
    fd = os.open(os.path.join(base, "probe"), os.O_WRONLY | os.O_CREAT)
    block = b"x" * 4096
    start = time.time()
    for _ in range(n):
        os.pwrite(fd, block, 0)
        os.fsync(fd)
    os.close(fd)
    return n / (time.time() - start)


def put(i, together):
    d = os.path.join(base, f"{i % 256:02x}")
    tmp = os.path.join(base, f"tmp{i}")
    with open(tmp, "wb") as f:
        f.write(data)
    dest = os.path.join(d, f"blob{i}")
    os.rename(tmp, dest)
    if together:
        a, b = pool.submit(fsync_path, dest), pool.submit(fsync_path, d)
        a.result()
        b.result()
    else:
        fsync_path(dest)
        fsync_path(d)


for d in range(256):
    os.makedirs(os.path.join(base, f"{d:02x}"))
print(f"bare 4 KiB pwrite + fsync: {bare_loop():.0f}/s")
i = 0
for rnd in range(3):
    for together in (False, True):
        n = 300
        start = time.time()
        for _ in range(n):
            put(i, together)
            i += 1
        label = "file + directory fsync together" if together else "file then directory fsync"
        print(f"round {rnd + 1}: rename, {label}: {n / (time.time() - start):.0f}/s")
os.system(f"rm -rf '{base}'")
