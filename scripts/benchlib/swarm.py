"""Searches across many peers, gossip convergence, swarms started at once, an idle peer."""

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
from .folders import *  # noqa: F401,F403

def fan_out(binary, work, runs):
    live = []
    for index in range(27):
        folder = os.path.join(work, f"fan/{index}")
        os.makedirs(folder, exist_ok=True)
        open(os.path.join(folder, f"common-{index}.txt"), "w").close()
        live.append(Peer(binary, folder))
    silent = []
    for _ in range(3):  # query ports whose backlog accepts connections that nobody ever answers
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        silent.append(listener)
    silent_peers = [listener.getsockname()[1] - 1 for listener in silent]  # the query port is p+1
    timeout = 1.0

    def measure(ports):
        arguments = ["--timeout", str(timeout), "--gossip-interval", "3600"]
        for port in ports:
            arguments += ["--bootstrap", f"127.0.0.1:{port}"]
        # A folder of its own each time: a console remembers its peers across runs.
        console = Peer(binary, os.path.join(work, f"fan/console-{len(ports)}"), *arguments, console=True)
        times = []
        for _ in range(runs):
            console.send("common")
            started = time.monotonic()
            at, line = console.wait_for(r"matches \(asked", 30)
            times.append(at - started)
        console.stop()
        return statistics.median(times)

    with_silent = measure([p.port for p in live] + silent_peers)
    without = measure([p.port for p in live])
    for peer in live:
        peer.stop()
    for listener in silent:
        listener.close()
    return with_silent, without, timeout


def gossip(binary, work, size, interval, runs):
    rounds = []
    for run in range(runs):
        peers = []
        for index in range(size):
            arguments = ["--gossip-interval", str(interval)]
            if peers:
                arguments += ["--bootstrap", f"127.0.0.1:{peers[-1].port}"]
            peers.append(Peer(binary, os.path.join(work, f"gossip/{size}-{run}/{index}"), *arguments))
        started = time.monotonic()  # the last peer is ready
        pending = set(range(size))
        deadline = started + 60 * interval
        while pending and time.monotonic() < deadline:
            for index in list(pending):
                try:
                    if request(peers[index].port, "", timeout=2).count(b"\n") == size - 1:
                        pending.discard(index)
                except OSError:
                    pass
            time.sleep(min(0.1, interval / 10) if size <= 40 else 0.25)
        elapsed = time.monotonic() - started
        for peer in peers:
            peer.stop()
        rounds.append(elapsed / interval if not pending else float("inf"))
    return statistics.median(rounds)


class NaivePeer:
    """The anchor of the swarm rows: plain P+2 gossip in its simplest form. It
    contacts a random known peer each interval and answers with all it knows."""

    def __init__(self, identity, bootstrap, interval):
        self.identity, self.known, self.interval, self.stopped = identity, set(), interval, False
        if bootstrap:
            self.known.add(bootstrap)
        self.lock = threading.Lock()
        host, port = identity.split(":")
        self.server = socket.create_server((host, int(port)), backlog=128)
        threading.Thread(target=self._serve, daemon=True).start()
        threading.Thread(target=self._gossip, daemon=True).start()

    def _serve(self):
        while not self.stopped:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                try:
                    connection.settimeout(2)
                    line = connection.makefile("rb").readline().strip().decode()
                    with self.lock:
                        if re.fullmatch(r"127\.\d+\.\d+\.\d+:\d+", line):
                            self.known.add(line)
                        answer = "".join(peer + "\n" for peer in self.known if peer != line)
                    connection.sendall(answer.encode())
                except OSError:
                    pass

    def _gossip(self):
        me = self.identity
        while not self.stopped:
            started = time.monotonic()
            with self.lock:
                target = random.choice(sorted(self.known)) if self.known else None
            if target:
                try:
                    host, port = target.split(":")
                    for line in request(int(port), me, timeout=2, source=me.split(":")[0],
                                        host=host).decode().split():
                        if line != me:
                            with self.lock:
                                self.known.add(line)
                except OSError:
                    pass
            time.sleep(max(0, self.interval - (time.monotonic() - started)))

    def stop(self):
        self.stopped = True
        self.server.close()


def free_port_range(count):
    """A base port with `count` free ports after it (peers started at once need theirs in advance),
    below the kernel's ephemeral range: else a peer's own outgoing connections could take the port
    of a peer not started yet, which would then fail to listen."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ephemeral:
        first_ephemeral = int(ephemeral.read().split()[0])
    while True:
        base = random.randrange(10000, first_ephemeral - count)
        sockets = []
        try:
            for offset in range(count):
                probe = socket.socket()
                probe.bind(("127.0.0.1", base + offset))
                sockets.append(probe)
            return base
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()


def swarm_address(index):
    """Peer `index` of a swarm has a loopback address of its own, as on a LAN
    (127.0.1.2 on): its claims hold, and one address is believed for a few
    identities only."""
    return f"127.0.{1 + index // 250}.{2 + index % 250}"


def swarm_at_once(binary, work, kind, size, interval, run):
    """Intervals until all know all, for `size` peers started all at once as a
    chain: each bootstraps from the one started before it, which may not
    listen yet. `kind` is "pplus2" or "naive". Each peer has an address of its
    own (see swarm_address). A peer knows another once it has passed it on in
    an answer (pplus2 relays a rotating share of the peers it has not verified
    yet, so the union of its answers is what it knows)."""
    base = free_port_range(3 * size)
    identities = [f"{swarm_address(index)}:{base + 3 * index}" for index in range(size)]
    processes, naive = [], []
    for index, identity in enumerate(identities):
        bootstrap = identities[index - 1] if index else None
        if kind == "naive":
            naive.append(NaivePeer(identity, bootstrap, interval))
            continue
        host, port = identity.split(":")
        arguments = [binary, "--port", port, "--bind", host, "--no-console", "--timeout", "1",
                     "--dir", os.path.join(work, f"swarm/{size}-{run}/{index}"), "--gossip-interval", str(interval)]
        if bootstrap:
            arguments += ["--bootstrap", bootstrap]
        processes.append(spawn(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL))
    started = time.monotonic()
    known = [set() for _ in identities]
    pending = set(range(size))
    while pending and time.monotonic() < started + 60 * interval:
        for index in list(pending):
            host, port = identities[index].split(":")
            try:
                known[index] |= set(request(int(port), "", timeout=2, host=host).decode().split())
            except OSError:
                continue
            if len(known[index] & set(identities)) >= size - 1:
                pending.discard(index)
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    resident = [status_kib(process.pid, "VmRSS") for process in processes if process.poll() is None]
    threads = [status_kib(process.pid, "Threads") for process in processes if process.poll() is None]
    for process in processes:
        stop(process)
    for peer in naive:
        peer.stop()
    rounds = elapsed / interval if not pending else float("inf")
    return rounds, (statistics.median(resident) if resident else 0), (statistics.median(threads) if threads else 0)


def search_across(binary, work, size):
    """A console search across `size` live peers, each sharing one file that
    matches: seconds until the listing, and how many matches it listed."""
    base = free_port_range(3 * size)
    ports = [base + 3 * index for index in range(size)]
    for index, port in enumerate(ports):
        folder = os.path.join(work, f"across/{index}")
        os.makedirs(folder, exist_ok=True)
        open(os.path.join(folder, f"common-{index}.txt"), "w").close()
        spawn([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--no-console",
               "--gossip-interval", "3600"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
              stderr=subprocess.DEVNULL)
    for port in ports:
        wait_for_port(port + 1)
    arguments = ["--gossip-interval", "3600"]
    for port in ports:
        arguments += ["--bootstrap", f"127.0.0.1:{port}"]
    console = Peer(binary, os.path.join(work, "across/console"), *arguments, console=True)
    times, listed = [], 0
    for _ in range(3):
        console.send("common")
        started = time.monotonic()
        at, line = console.wait_for(r"matches? \(asked", 60)
        times.append(at - started)
        listed = int(line.split()[0])
    console.stop()
    return statistics.median(times), listed


def idle(binary, tools, work):
    ready, resident = [], []
    for run in range(5):
        peer = Peer(binary, os.path.join(work, f"idle/{run}"))
        ready.append(peer.ready_after)
        time.sleep(0.5)
        resident.append(status_kib(peer.pid, "VmRSS"))
        if run < 4:
            peer.stop()
    before = cpu_seconds(peer.pid)
    time.sleep(30)
    idle_cpu = cpu_seconds(peer.pid) - before
    peer.stop()
    anchor_ready, anchor_rss = [], []
    for _ in range(5):
        started = time.monotonic()
        process = spawn([tools["empty"]], stderr=subprocess.PIPE)
        read_line(process.stderr, 10)
        anchor_ready.append(time.monotonic() - started)
        time.sleep(0.2)
        anchor_rss.append(status_kib(process.pid, "VmRSS"))
        stop(process)
    return (statistics.median(ready), statistics.median(resident), idle_cpu,
            statistics.median(anchor_ready), statistics.median(anchor_rss))
