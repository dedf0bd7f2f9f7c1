"""Multi-source downloads, resume, hashing speed, a fake extended peer."""

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

def wait_for_hash_cache(folder, files, timeout=120):
    """Until the peer sharing `folder` has saved the hashes of its `files` files."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(folder, ".pplus2-hashes"), "rb") as lines:
                if sum(1 for line in lines if not line.startswith(b"+")) == files + 1:  # "+" lines: piece lists
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{folder} was not hashed within {timeout} s")


def fetch_from_copies(binary, work, name, folder, bootstraps, launcher=()):
    """Seconds from the pick to the saved line of a console that lists `name`
    on every peer of `bootstraps` (a pipe: one line a copy; the copies of one
    content are the sources of one download)."""
    arguments = ["--gossip-interval", "3600"]
    for bootstrap in bootstraps:
        arguments += ["--bootstrap", bootstrap]
    # In a namespace of its own the console must not bind 127.0.0.1: its
    # connections go out from that address, which cannot reach the sources.
    console = Peer(binary, folder, *arguments, console=True, launcher=launcher,
                   bind="0.0.0.0" if launcher else "127.0.0.1")
    try:
        console.send(name)
        console.wait_for(rf"^{len(bootstraps)} match", 30)
        console.send("1")
        started = time.monotonic()
        at, line = console.wait_for(r"^(saved|download|nothing)", 600)
        if not line.startswith("saved") or "verified sha256" not in line:
            raise RuntimeError(line)
        os.remove(os.path.join(folder, name))
        peaks.append(status_kib(console.pid, "VmHWM"))
        return at - started
    finally:
        console.stop()


peaks = []  # the downloading consoles' peak RSS, for the multi-source rows


def limited_link(tag, k, namespace, downloader):
    """Source namespace `k` (198.18.k.1) joined to the downloader's (198.18.k.2) by a veth pair, its side limited
    to 200 Mbit/s by tbf; the downloader's namespace made with the first source."""

    def ip(*arguments):
        subprocess.run(["ip", *arguments], check=True, stdout=subprocess.DEVNULL)

    for made in ([downloader] if k == 1 else []) + [namespace]:
        ip("netns", "add", made)
        ip("-n", made, "link", "set", "lo", "up")
    ip("link", "add", f"{tag}a{k}", "netns", namespace, "type", "veth", "peer", "name", f"{tag}b{k}",
       "netns", downloader)
    ip("-n", namespace, "addr", "add", f"198.18.{k}.1/24", "dev", f"{tag}a{k}")
    ip("-n", downloader, "addr", "add", f"198.18.{k}.2/24", "dev", f"{tag}b{k}")
    ip("-n", namespace, "link", "set", f"{tag}a{k}", "up")
    ip("-n", downloader, "link", "set", f"{tag}b{k}", "up")
    subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "add", "dev", f"{tag}a{k}", "root", "tbf",
                    "rate", "200mbit", "burst", "256kb", "latency", "100ms"], check=True)


def multi_source(binary, work, runs):
    """A 256 MiB download from 1, 2 and 3 sources, each in a network namespace
    of its own behind a 200 Mbit/s link (tbf on its side of a veth pair into
    the downloader's namespace); then on loopback without limits, 1 and 3
    sources. Needs root and iproute2; None without them."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tc"):
        return None
    tag = f"pp{os.getpid() % 100000}"
    downloader, sources = f"{tag}d", [f"{tag}s{k}" for k in (1, 2, 3)]
    name = "multi.bin"
    original = original_file(work, "multi", name)

    processes = []
    try:
        for k, namespace in enumerate(sources, start=1):
            limited_link(tag, k, namespace, downloader)
            folder = os.path.join(work, "multi", f"source-{k}")
            os.makedirs(folder, exist_ok=True)
            os.link(original, os.path.join(folder, name))
            processes.append(spawn(["ip", "netns", "exec", namespace, binary, "--port", "5000", "--bind",
                                    f"198.18.{k}.1", "--dir", folder, "--no-console", "--gossip-interval", "3600"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_hash_cache(folder, 1)
        limited = {}
        for count in (1, 2, 3):
            bootstraps = [f"198.18.{k}.1:5000" for k in range(1, count + 1)]
            limited[count] = statistics.median(
                fetch_from_copies(binary, work, name, os.path.join(work, "multi", f"down-{count}-{run}"), bootstraps,
                                  launcher=("ip", "netns", "exec", downloader))
                for run in range(runs))
        # Loopback, no limit: three local peers sharing the same file.
        local = []
        for k in range(3):
            folder = os.path.join(work, "multi", f"local-{k}")
            os.makedirs(folder, exist_ok=True)
            os.link(original, os.path.join(folder, name))
            peer = Peer(binary, folder, "--gossip-interval", "3600")
            processes.append(peer.process)
            wait_for_hash_cache(folder, 1)
            local.append(f"127.0.0.1:{peer.port}")
        loopback = {count: statistics.median(
            fetch_from_copies(binary, work, name, os.path.join(work, "multi", f"loop-{count}-{run}"), local[:count])
            for run in range(runs)) for count in (1, 3)}
        return limited, loopback
    finally:
        for process in processes:
            stop(process)
        for namespace in [downloader] + sources:
            subprocess.run(["ip", "netns", "delete", namespace], stderr=subprocess.DEVNULL)




def original_file(work, group, name, size=256 * MIB):
    """The file `name` of `size` bytes that the peers of one group of rows share (hard links of it)."""
    original = os.path.join(work, group, "original", name)
    os.makedirs(os.path.dirname(original), exist_ok=True)
    make_file(original, size)
    return original


def liar_after_hashing(binary, folder, name, consistent=False):
    """A pplus2 peer sharing `name` in `folder` hashes it and stops; one byte of
    each MiB of the file is then changed in place and its modification time put
    back, so that, restarted, it announces the old SHA-256 and piece list from
    its cache and serves other bytes: a liar that does not know it lies. With
    `consistent`, the cache's piece list is replaced by the chaining values of
    the changed bytes, ending at the old SHA-256 (a list must end at the
    content's SHA-256 to be used at all): the strongest liar, whose lie holds
    together up to its last piece. The values are computed by a pplus2 peer
    sharing a copy of the changed file (hashlib cannot give a midstate)."""
    peer = Peer(binary, folder, "--gossip-interval", "3600")
    wait_for_hash_cache(folder, 1)
    peer.stop()
    path = os.path.join(folder, name)
    before = os.stat(path)
    with open(path, "r+b") as data:
        for offset in range(1000, before.st_size, MIB):
            data.seek(offset)
            byte = data.read(1)
            data.seek(offset)
            data.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    if consistent:
        scratch = folder.rstrip("/") + "-chain"
        os.makedirs(scratch, exist_ok=True)
        shutil.copyfile(path, os.path.join(scratch, name))
        hasher = Peer(binary, scratch, "--gossip-interval", "3600")
        wait_for_hash_cache(scratch, 1)
        hasher.stop()
        with open(os.path.join(scratch, ".pplus2-hashes"), "rb") as lines:
            chain = [line for line in lines if line.startswith(b"+")]
        shutil.rmtree(scratch)
        cache = os.path.join(folder, ".pplus2-hashes")
        with open(cache, "rb") as lines:
            kept = [line for line in lines if not line.startswith(b"+")]
        old_sha256 = kept[1].split(b" ")[3]
        with open(cache, "wb") as out:
            out.write(b"".join(kept) + b"".join(chain[:-1]) + b"+" + old_sha256 + b"\n")
    return Peer(binary, folder, "--gossip-interval", "3600")


def written_bytes(pid):
    """Bytes a process wrote by system calls (sockets and sendfile included): /proc/PID/io's wchar."""
    with open(f"/proc/{pid}/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))


def liar_cost(binary, work, runs):
    """A 256 MiB download from pplus2 peers on loopback: 3 honest ones; 2 honest
    and a liar whose file changed after it was hashed (pieces unlike its list);
    2 honest and a liar whose list holds together (outvoted); that liar and 1
    honest peer (a tie, settled by the liar's last piece) against 1 honest peer. Each:
    median seconds and the MiB the liar sent, each download by a fresh console."""
    name = "liar.bin"
    original = original_file(work, "liars", name)
    peers, honest = [], []

    def start_honest(k):
        folder = os.path.join(work, "liars", f"honest-{k}")
        os.makedirs(folder, exist_ok=True)
        os.link(original, os.path.join(folder, name))
        peers.append(Peer(binary, folder, "--gossip-interval", "3600"))
        wait_for_hash_cache(folder, 1)
        honest.append(f"127.0.0.1:{peers[-1].port}")

    try:
        for k in range(2):
            start_honest(k)
        liars = {}
        for kind in ("pieces", "consistent"):
            folder = os.path.join(work, "liars", f"liar-{kind}")
            os.makedirs(folder, exist_ok=True)
            shutil.copyfile(original, os.path.join(folder, name))
            peers.append(liar_after_hashing(binary, folder, name, consistent=kind == "consistent"))
            liars[kind] = peers[-1]
        start_honest(2)

        def case(label, bootstraps, liar=None):
            times, sent = [], []
            for run in range(runs):
                before = written_bytes(liar.pid) if liar else 0
                folder = os.path.join(work, "liars", f"down-{label}-{run}")
                times.append(fetch_from_copies(binary, work, name, folder, bootstraps))
                sent.append((written_bytes(liar.pid) - before) if liar else 0)
            return statistics.median(times), max(sent)

        return {
            "honest 3": case("honest3", honest),
            "honest 1": case("honest1", honest[:1]),
            "pieces": case("pieces", [f"127.0.0.1:{liars['pieces'].port}"] + honest[:2], liars["pieces"]),
            "outvoted": case("outvoted", [f"127.0.0.1:{liars['consistent'].port}"] + honest[:2],
                             liars["consistent"]),
            "tie": case("tie", [f"127.0.0.1:{liars['consistent'].port}"] + honest[:1], liars["consistent"]),
        }
    finally:
        for peer in peers:
            peer.stop()


def sha256_speed(tools, work, runs):
    """Bytes per second hashing a 1 GiB buffer: ours, OpenSSL (`openssl speed`
    and Python's hashlib, both OpenSSL), and coreutils' sha256sum on a 1 GiB
    file in tmpfs (its best case)."""
    ours = max(float(subprocess.run([tools["sha256"], "--speed", "1024"], check=True, capture_output=True,
                                    text=True).stdout.split()[0]) * 1e9 for _ in range(runs))
    openssl = 0.0
    if shutil.which("openssl"):
        out = subprocess.run(["openssl", "speed", "-evp", "sha256", "-bytes", "16384", "-seconds", "3"],
                             capture_output=True, text=True).stdout.strip().splitlines()
        openssl = float(out[-1].split()[-1].rstrip("k")) * 1000 if out else 0.0

    buffer = b"\x5a" * GIB
    hashlib_rates = []
    for _ in range(runs):
        started = time.monotonic()
        hashlib.sha256(buffer).digest()
        hashlib_rates.append(GIB / (time.monotonic() - started))
    del buffer
    big = os.path.join(work, "serve/big.bin")
    coreutils = GIB / min(timed(["sha256sum", big]) for _ in range(runs))
    # The same digest as coreutils on the 1 GiB file: the fast path is also the right one.
    digests = {subprocess.run(command + [big], check=True, capture_output=True, text=True).stdout.split()[0]
               for command in (["sha256sum"], [tools["sha256"]], [tools["sha256"], "--portable"])}
    if len(digests) != 1:
        raise RuntimeError(f"SHA-256 digests differ on {big}: {digests}")
    return ours, max(openssl, max(hashlib_rates)), coreutils


class FakeExtendedPeer:
    """Answers the extension's find and get on p+1 and p+2 for one file, but
    sends only its first `cut` bytes, then closes cleanly: a download that
    broke off, to be resumed elsewhere."""

    def __init__(self, path, cut):

        with open(path, "rb") as source:
            self.data = source.read()
        self.digest = hashlib.sha256(self.data).hexdigest()
        self.cut = cut
        for _ in range(100):
            base = free_port()
            try:
                self.listeners = [socket.create_server(("127.0.0.1", base + offset)) for offset in (1, 2)]
                break
            except OSError:
                continue
        self.port = base
        for index, listener in enumerate(self.listeners):
            threading.Thread(target=self._serve, args=(listener, index), daemon=True).start()

    def _serve(self, listener, index):
        while True:
            connection, _ = listener.accept()
            with connection:
                line = connection.makefile("rb").readline().rstrip(b"\r\n")
                if index == 0:
                    connection.sendall(f"\x01P+2x/1\n{len(self.data)} {self.digest} big.bin\n".encode())
                else:
                    offset = int(line.split(b" ")[1])
                    connection.sendall(f"\x01P+2x/1 {len(self.data)} {self.digest}\n".encode())
                    connection.sendall(self.data[offset:self.cut])


def resume(binary, work):
    """A 256 MiB download cut at 100 MiB (by a fake peer, the only one the
    console knows), then picked again by a console that knows a pplus2 peer
    with the file: the bytes that peer sends, and the bytes missing. (With both
    known at once, the two copies would be the sources of one download.)"""
    size, cut = 256 * MIB, 100 * MIB
    folder = os.path.join(work, "resume-source")
    os.makedirs(folder, exist_ok=True)
    make_file(os.path.join(folder, "big.bin"), size)
    fake = FakeExtendedPeer(os.path.join(folder, "big.bin"), cut)
    source = spawn([binary, "--port", "0", "--bind", "127.0.0.1", "--dir", folder, "--no-console", "--verbose"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    match = re.match(r"listening on [0-9.]+:(\d+) ", read_line(source.stderr, 10) or "")
    source_port = int(match.group(1))
    logged = queue.Queue()
    threading.Thread(target=lambda: [logged.put(l.decode()) for l in source.stderr], daemon=True).start()
    wait_until_hashed(source_port, 1)
    mine = os.path.join(work, "resume-mine")
    peer = Peer(binary, mine, "--bootstrap", f"127.0.0.1:{fake.port}", "--gossip-interval", "3600", console=True)
    peer.send("big.bin")
    peer.wait_for(rf"^  1\) big.bin  \[127.0.0.1:{fake.port}\]", 10)
    peer.send("1")  # the fake peer: cut at 100 MiB, kept
    peer.wait_for(r"kept, picking this file again resumes", 60)
    peer.stop()
    if os.path.exists(os.path.join(mine, ".pplus2-peers")):
        os.remove(os.path.join(mine, ".pplus2-peers"))  # the next console knows the pplus2 peer alone
    peer = Peer(binary, mine, "--bootstrap", f"127.0.0.1:{source_port}", "--gossip-interval", "3600", console=True)
    peer.send("big.bin")
    peer.wait_for(rf"^  1\) big.bin  \[127.0.0.1:{source_port}\]", 10)
    peer.send("1")  # the same content from a pplus2 peer: resumed from the kept partial
    at, line = peer.wait_for(r"^(saved|download)", 60)
    if "resumed from" not in line or "verified" not in line:
        raise RuntimeError(line)
    sent = None
    deadline = time.monotonic() + 10
    while sent is None and time.monotonic() < deadline:
        entry = logged.get(timeout=10)
        found = re.search(r'download "big.bin" to [0-9.]+: (\d+) bytes from (\d+)', entry)
        if found:
            sent = int(found.group(1))
    peer.stop()
    stop(source)
    return sent, size - cut


def hashing(binary, work, name, files):
    """A fresh folder hashed by a new peer: seconds, CPU seconds, peak RSS,
    and the slowest plain query answered meanwhile."""
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    for file_name, size in files:
        if size >= MIB:
            make_file(os.path.join(folder, file_name), size)
        else:
            with open(os.path.join(folder, file_name), "wb") as out:
                out.write(os.urandom(size))
    peer = Peer(binary, folder)
    latencies = []

    def query():
        started = time.monotonic()
        request(peer.port + 1, "file-0000")
        latencies.append(time.monotonic() - started)

    seconds = wait_until_hashed(peer.port, len(files), timeout=300, each=query)
    result = seconds, cpu_seconds(peer.pid), status_kib(peer.pid, "VmHWM"), max(latencies, default=0)
    peer.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return result
