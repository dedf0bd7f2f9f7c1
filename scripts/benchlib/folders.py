"""Query latency and memory of large shared folders."""

import argparse
import math
import hashlib
import os
import queue
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from .harness import *  # noqa: F401,F403
from .transfer import *  # noqa: F401,F403
from .sources import *  # noqa: F401,F403

def peak_memory_small(binary, work):
    """Peak RSS of a fresh serving and downloading pair for a 64 MiB file."""
    folder = os.path.join(work, "serve64")
    os.makedirs(folder, exist_ok=True)
    make_file(os.path.join(folder, "mid.bin"), 64 * MIB)
    server = Peer(binary, folder)
    receiver = Peer(binary, os.path.join(work, "received64"), "--bootstrap", f"127.0.0.1:{server.port}",
                    "--gossip-interval", "3600", console=True)
    receiver.send("mid.bin")
    receiver.wait_for(r"^  1\) ", 10)
    receiver.send("1")
    receiver.wait_for(r"^saved", 60)
    result = status_kib(server.pid, "VmHWM"), status_kib(receiver.pid, "VmHWM")
    server.stop()
    receiver.stop()
    return result


def query_latency(binary, work, count):
    folder = os.path.join(work, "many")
    os.makedirs(folder, exist_ok=True)
    for index in range(100_000):
        open(os.path.join(folder, f"document-{index:06d}-report.txt"), "w").close()
    peer = Peer(binary, folder)
    request(peer.port + 1, "warm-up")
    latencies = []
    for index in range(count):
        query = f"{(index * 7919) % 10000:04d}-report"  # matches 10 of the 100,000 names
        started = time.monotonic()
        answer = request(peer.port + 1, query)
        latencies.append(time.monotonic() - started)
        assert answer.count(b"\n") == 10, (query, answer[:200])
    peer.stop()
    # The anchor: what a naive peer pays at least, listing the folder once per query.
    listings = []
    for _ in range(5):
        started = time.monotonic()
        for entry in os.scandir(folder):
            entry.stat(follow_symlinks=False)
        listings.append(time.monotonic() - started)
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1], statistics.median(listings)


def make_names(folder, count, mixed):
    """`count` empty files: `file-000123.txt`, or with `mixed` every other one
    `Café-000124.txt` (half the names not ASCII)."""
    os.makedirs(folder, exist_ok=True)
    for index in range(count):
        name = f"Café-{index:06d}.txt" if mixed and index % 2 else f"file-{index:06d}.txt"
        open(os.path.join(folder, name), "w").close()


def timed_queries(port, queries, clients=1):
    """Seconds each query took, sorted; `clients` threads share the queries."""
    took, lock = [], threading.Lock()

    def client(share):
        for query in share:
            started = time.monotonic()
            request(port, query)
            with lock:
                took.append(time.monotonic() - started)

    threads = [threading.Thread(target=client, args=(queries[index::clients],)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(took)


def timed_while_churning(port, queries, name_of, folder):
    """`timed_queries` while a file is added or removed every 100 ms: the
    file `name_of(index)` in `folder` created at even steps, removed at odd."""
    stop_churn = threading.Event()

    def churn():
        index = 0
        while not stop_churn.wait(0.1):
            path = os.path.join(folder, name_of(index))
            open(path, "w").close() if index % 2 == 0 else os.remove(path)
            index += 1

    churner = threading.Thread(target=churn)
    churner.start()
    try:
        return timed_queries(port, queries)
    finally:
        stop_churn.set()
        churner.join()


def percentile(values, fraction):
    return values[min(len(values) - 1, int(len(values) * fraction))]


def folder_at_scale(binary, work, mixed, count):
    """The query port over 100,000 names (half of them not ASCII with `mixed`):
    latencies quiet, under a change every 100 ms and with 8 clients; non-ASCII
    queries; the time for a new file to show; the CPU of the longest non-ASCII
    query and an honest query's latency while 4 clients loop it; peak RSS."""
    folder = os.path.join(work, "scale-mixed" if mixed else "scale")
    make_names(folder, 100_000, mixed)
    peer = Peer(binary, folder)
    port = peer.port + 1
    request(port, "warm-up")
    ascii_queries = [f"{(index * 7919) % 100_000:05d}." for index in range(count)]
    figures = {"quiet": timed_queries(port, ascii_queries)}
    figures["changing"] = timed_while_churning(port, ascii_queries, lambda index: f"churn-{index // 2}.txt", folder)
    figures["8 clients"] = timed_queries(port, ascii_queries, clients=8)
    figures["non-ASCII"] = timed_queries(port, [f"é-{(index * 7919) % 10_000:04d}" for index in range(count)])
    appear = []
    for index in range(20):
        name = f"fresh-{index}-{random.randrange(1 << 30)}.txt"
        open(os.path.join(folder, name), "w").close()
        started = time.monotonic()
        while name.encode() not in request(port, name) and time.monotonic() - started < 5:
            pass
        appear.append(time.monotonic() - started)
    long_query = "é" * 2048  # 4096 bytes, the longest request line
    before = cpu_seconds(peer.pid)
    for _ in range(20):
        request(port, long_query)
    long_cpu = (cpu_seconds(peer.pid) - before) / 20
    stop_loops = threading.Event()

    def attacker(source):  # each from an address of its own, as other hosts would be
        while not stop_loops.is_set():
            request(port, long_query, source=source)

    attackers = [threading.Thread(target=attacker, args=(f"127.0.0.{2 + index}",)) for index in range(4)]
    for thread in attackers:
        thread.start()
    time.sleep(0.2)
    honest = timed_queries(port, ascii_queries[:200])
    stop_loops.set()
    for thread in attackers:
        thread.join()
    peak = status_kib(peer.pid, "VmHWM")
    peer.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return figures, sorted(appear), long_cpu, honest, peak


def index_memory(binary, work, count):
    """Peak RSS of a peer sharing `count` names (half not ASCII), once every
    file is hashed (its hash cache saved whole) and a query answered."""
    folder = os.path.join(work, f"memory-{count}")
    make_names(folder, count, True)
    peer = Peer(binary, folder)
    cache = os.path.join(folder, ".pplus2-hashes")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with open(cache, "rb") as lines:
                if sum(1 for _ in lines) == count + 1:
                    break
        except OSError:
            pass
        time.sleep(0.5)
    request(peer.port + 1, "é-1", timeout=30)
    peak = status_kib(peer.pid, "VmHWM")
    peer.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return peak


def tree_at_scale(binary, work, count):
    """A tree of 100,000 empty files in 1,000 folders (`d-123/file-000123.txt`,
    100 a folder), asked by the extension's `\\x01find` (plain P+2 sees only the
    top level): latencies quiet and under a file added or removed in a
    sub-folder every 100 ms; the time for a new file in a sub-folder, and in a
    new sub-folder, to show; the time to the readiness line; peak RSS."""
    folder = os.path.join(work, "tree")
    for index in range(100_000):
        sub = os.path.join(folder, f"d-{index % 1000:03d}")
        if index < 1000:
            os.makedirs(sub, exist_ok=True)
        open(os.path.join(sub, f"file-{index:06d}.txt"), "w").close()
    started = time.monotonic()
    peer = Peer(binary, folder)
    ready = time.monotonic() - started
    port = peer.port + 1
    queries = [f"\x01find {(index * 7919) % 100_000:06d}." for index in range(count)]
    request(port, queries[0])
    figures = {"quiet": timed_queries(port, queries)}
    figures["changing"] = timed_while_churning(
        port, queries, lambda index: f"d-{(index // 2) % 1000:03d}/churn-{index // 2}.txt", folder)
    appear = []
    for index in range(20):
        sub = f"d-{(index * 37) % 1000:03d}" if index % 2 else f"new-{index}-{random.randrange(1 << 30)}"
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        name = f"{sub}/fresh-{index}-{random.randrange(1 << 30)}.txt"
        open(os.path.join(folder, name), "w").close()
        started = time.monotonic()
        while name.encode() not in request(port, "\x01find " + name.split("/")[1]) and time.monotonic() - started < 5:
            pass
        appear.append(time.monotonic() - started)
    peak = status_kib(peer.pid, "VmHWM")
    peer.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return figures, sorted(appear), ready, peak
