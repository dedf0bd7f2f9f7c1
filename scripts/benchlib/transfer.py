"""Rows 1-3: serving against a C sendfile server, downloads against socat and curl, durable downloads against the same checks by hand and rsync."""

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

# ---------------------------------------------------------------- the rows


def serve(binary, tools, work, runs, name="big.bin", size=GIB, peer=None, pick=max):
    """Serving `name` (`size` bytes) from the folder work/serve, by a pplus2 peer (started here unless given)
    and by a C sendfile(2) server, a raw C client reading to nowhere: the throughput `pick` chooses (the best
    by default) and the median CPU of each."""
    folder = os.path.join(work, "serve")
    if peer is None:
        peer = Peer(binary, folder)
    c_port = free_port()
    server = spawn([tools["sendfile_server"], str(c_port), os.path.join(folder, name)],
                   stdout=subprocess.PIPE)
    server.stdout.readline()
    shared = [entry for entry in os.listdir(folder) if not entry.startswith(".")]
    wait_until_hashed(peer.port, len(shared))  # the background hashing must not share the measurement

    def once(port, pid):
        before = cpu_seconds(pid)
        out = subprocess.run([tools["sink_client"], str(port), name], check=True, capture_output=True,
                             text=True, timeout=60).stdout.split()
        assert int(out[0]) == size, out
        return int(out[0]) / float(out[1]), cpu_seconds(pid) - before

    once(c_port, server.pid)  # warm the page cache
    # Interleaved, so that both meet the same machine.
    results = {"ours": [], "theirs": []}
    for _ in range(runs):
        results["ours"].append(once(peer.port + 2, peer.pid))
        results["theirs"].append(once(c_port, server.pid))
    ours, theirs = (
        (pick([r[0] for r in results[key]]), statistics.median(r[1] for r in results[key])) for key in ("ours", "theirs")
    )
    stop(server)
    return peer, ours, theirs


def download(binary, tools, work, server_peer, runs):
    """Median seconds of a 1 GiB download by pplus2's console, socat and curl,
    the runs interleaved (after one warm-up each) so that all three meet the
    same machine; and the peak RSS of the two peers."""
    serve_folder = os.path.join(work, "serve")
    target = os.path.join(work, "received")
    os.makedirs(target, exist_ok=True)
    source = os.path.join(serve_folder, "big.bin")

    # pplus2 -> pplus2, by the console.
    received = os.path.join(work, "pplus2-received")
    peer = Peer(binary, received, "--bootstrap", f"127.0.0.1:{server_peer.port}", "--gossip-interval", "3600",
                console=True)

    wait_until_hashed(server_peer.port, 1)

    def by_pplus2():
        peer.send("big.bin")
        peer.wait_for(r"^  1\) ", 10)
        peer.send("1")
        started = time.monotonic()
        at, line = peer.wait_for(r"^(saved|download)", 120)
        if not line.startswith("saved") or "verified sha256" not in line:
            raise RuntimeError(line)  # the row measures a download checked before it takes its name
        os.remove(os.path.join(received, "big.bin"))
        return at - started

    # socat receiving the same bytes (sent by the C sendfile server) into a file.
    socat_port = free_port()
    sender = spawn([tools["sendfile_server"], str(socat_port), source, "--no-request"], stdout=subprocess.PIPE)
    sender.stdout.readline()

    def by_socat():
        out = os.path.join(target, "socat.bin")
        seconds = timed(["socat", "-u", "-b", str(MIB), f"TCP:127.0.0.1:{socat_port}", f"CREATE:{out}"])
        assert os.path.getsize(out) == GIB
        os.remove(out)
        return seconds

    # curl fetching it from python3 -m http.server.
    http_port = free_port()
    spawn([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", serve_folder, str(http_port)],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(http_port)

    def by_curl():
        out = os.path.join(target, "curl.bin")
        seconds = timed(["curl", "-s", "-o", out, f"http://127.0.0.1:{http_port}/big.bin"])
        assert os.path.getsize(out) == GIB
        os.remove(out)
        return seconds

    medians = interleaved((by_pplus2, by_socat, by_curl), runs)
    peak_server = status_kib(server_peer.pid, "VmHWM")
    peak_receiver = status_kib(peer.pid, "VmHWM")
    peer.stop()
    stop(sender)
    return (*medians, peak_server, peak_receiver)


def interleaved(contestants, runs):
    """Each contestant's median seconds: one warm-up each (page allocation, caches), then the runs interleaved."""
    for contestant in contestants:
        contestant()
    times = {contestant: [] for contestant in contestants}
    for _ in range(runs):
        for contestant in contestants:
            times[contestant].append(contestant())
    return tuple(statistics.median(times[contestant]) for contestant in contestants)


class DurableContestants:
    """The contestants of one durable download of `name` (`size` bytes) into `folder`: each returns its seconds."""

    def __init__(self, binary, tools, work, server_peer, folder, name, size, expected):
        self.tools, self.name, self.size, self.expected = tools, name, size, expected
        self.received = os.path.join(folder, "pplus2")
        self.peer = Peer(binary, self.received, "--bootstrap", f"127.0.0.1:{server_peer.port}",
                         "--gossip-interval", "3600", console=True)
        self.port = free_port()
        self.sender = spawn([tools["sendfile_server"], str(self.port), os.path.join(work, "serve", name),
                             "--no-request"], stdout=subprocess.PIPE)
        self.sender.stdout.readline()
        self.rsync = RsyncDaemon(os.path.join(work, "serve"), folder)
        self.out = os.path.join(folder, "other.bin")

    def stop(self):
        self.peer.stop()
        stop(self.sender)
        self.rsync.stop()

    def by_pplus2(self):
        self.peer.send(self.name)
        self.peer.wait_for(r"^  1\) ", 10)
        self.peer.send("1")
        started = time.monotonic()
        at, line = self.peer.wait_for(r"^(saved|download)", 300)
        if not line.startswith("saved") or "verified sha256" not in line:
            raise RuntimeError(line)
        os.remove(os.path.join(self.received, self.name))
        return at - started

    def by_socat(self):
        started = time.monotonic()
        subprocess.run(["socat", "-u", "-b", str(MIB), f"TCP:127.0.0.1:{self.port}", f"CREATE:{self.out}"],
                       check=True)
        subprocess.run(["sync", self.out], check=True)
        return self.done(started, None)

    def by_dd(self):
        seconds = timed(["dd", "if=/dev/zero", f"of={self.out}", "bs=1M", f"count={self.size // MIB}",
                         "conv=fsync", "status=none"])
        os.remove(self.out)
        return seconds

    def by_c(self):
        started = time.monotonic()
        digest = subprocess.run([self.tools["verified_sink"], str(self.port), self.out], check=True,
                                capture_output=True, text=True).stdout.strip()
        return self.done(started, digest)

    def by_hand(self):
        """socat, `sync FILE`, `sha256sum`: the same guarantee by hand."""
        started = time.monotonic()
        subprocess.run(["socat", "-u", "-b", str(MIB), f"TCP:127.0.0.1:{self.port}", f"CREATE:{self.out}"],
                       check=True)
        subprocess.run(["sync", self.out], check=True)
        digest = subprocess.run(["sha256sum", self.out], check=True, capture_output=True, text=True).stdout.split()[0]
        return self.done(started, digest)

    def by_rsync(self):
        """rsync from a daemon, --fsync and a whole-file SHA-1 check: the same guarantee by the usual tool."""
        started = time.monotonic()
        self.rsync.fetch(self.name, self.out)
        return self.done(started, None)

    def done(self, started, digest):
        seconds = time.monotonic() - started
        assert os.path.getsize(self.out) == self.size
        assert digest is None or digest == self.expected, digest
        os.remove(self.out)
        return seconds


class RsyncDaemon:
    """`rsync --daemon` on loopback serving `folder` as the module `bench`."""

    def __init__(self, folder, scratch):
        self.port = free_port()
        config = os.path.join(scratch, "rsyncd.conf")
        with open(config, "w") as out:
            out.write(f"use chroot = no\n[bench]\n  path = {folder}\n  read only = yes\n")
        self.process = spawn(["rsync", "--daemon", "--no-detach", f"--port={self.port}", "--address=127.0.0.1",
                              f"--config={config}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def fetch(self, name, out):
        subprocess.run(["rsync", "--fsync", "--cc=sha1", "--whole-file",
                        f"rsync://127.0.0.1:{self.port}/bench/{name}", out], check=True)

    def stop(self):
        stop(self.process)


def durable_download(binary, tools, work, server_peer, disk, size, runs):
    """Median seconds of a download of `size` bytes into a folder on `disk` (a real
    disk: /tmp), durably: pplus2 (verified, synced before it takes its name)
    against socat writing the file then `sync` of it, against the disk's own
    limit, `dd conv=fsync` of the same size, against the same checks in plain C
    (`verified_sink`: pplus2's design and nothing else), against them done by
    hand (socat, `sync FILE`, `sha256sum`) and against rsync from a daemon with
    `--fsync --cc=sha1`; the runs interleaved."""
    name = f"durable-{size}.bin"
    make_file(os.path.join(work, "serve", name), size)
    with open(os.path.join(work, "serve", name), "rb") as content:
        expected = hashlib.file_digest(content, "sha256").hexdigest()
    wait_until_hashed(server_peer.port, sum(1 for n in os.listdir(os.path.join(work, "serve")) if n[0] != "."))
    folder = tempfile.mkdtemp(prefix="pplus2-bench-", dir=disk)
    race = DurableContestants(binary, tools, work, server_peer, folder, name, size, expected)
    try:
        contestants = (race.by_pplus2, race.by_socat, race.by_dd, race.by_c, race.by_hand, race.by_rsync)
        for contestant in contestants:  # warm-up: the virtual disk's first writes to fresh blocks are slow
            subprocess.run(["sync"], check=True)
            contestant()
        times = {contestant: [] for contestant in contestants}
        for _ in range(runs):
            for contestant in contestants:
                subprocess.run(["sync"], check=True)  # each starts with a clean disk queue
                times[contestant].append(contestant())
        return tuple(statistics.median(times[contestant]) for contestant in contestants)
    finally:
        race.stop()
        shutil.rmtree(folder, ignore_errors=True)
