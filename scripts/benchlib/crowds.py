"""Crowds (issue 21): a thousand downloads at once from fifty addresses, and one search of a hundred peers that
each answer ten thousand long names: what the event loops hold, in time, memory and threads."""

import os
import random
import selectors
import socket
import subprocess
import threading
import time

from .harness import *  # noqa: F401,F403
from .swarm import free_port_range


def crowd_downloads(binary, tools, work, count, addresses):
    """`count` raw downloads of one 16 MiB file at once from `addresses` loopback addresses (crowd_client.c):
    how many completed, the aggregate rate, the slowest first byte, and the serving peer's peak RSS and threads."""
    folder = os.path.join(work, "crowd")
    os.makedirs(folder, exist_ok=True)
    size = 16 * MIB
    path = os.path.join(folder, "crowd.bin")
    if not os.path.exists(path):
        make_file(path, size)
    peer = Peer(binary, folder)
    try:
        out = subprocess.run([tools["crowd_client"], str(peer.port + 2), "crowd.bin", str(count), str(addresses),
                              str(size)], check=True, capture_output=True, text=True, timeout=600).stdout.split()
        complete, total, seconds, slowest, empty = int(out[0]), int(out[1]), float(out[2]), float(out[3]), int(out[4])
        peak = status_kib(peer.pid, "VmHWM")
        threads = status_kib(peer.pid, "Threads")
    finally:
        peer.stop()
    return complete, total / seconds, slowest, empty, peak, threads


class FakeNamePeer:
    """A plain P+2 peer on three consecutive ports whose every query answer is `names` (bytes), and whose answer
    to an extended request is nothing, as the contract has a plain peer do."""

    def __init__(self, answer):
        self.answer = answer
        base = free_port_range(3)
        self.port = base
        self.servers = []
        for offset in range(3):
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", base + offset))
            server.listen(64)
            self.servers.append(server)
            threading.Thread(target=self.serve, args=(server, offset == 1), daemon=True).start()

    def serve(self, server, is_query):
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=self.answer_one, args=(connection, is_query), daemon=True).start()

    def answer_one(self, connection, is_query):
        try:
            request = connection.recv(4096)
            if is_query and not request.startswith(b"\x01"):
                connection.sendall(self.answer)
        except OSError:
            pass
        finally:
            connection.close()

    def stop(self):
        for server in self.servers:
            try:
                server.shutdown(socket.SHUT_RDWR)  # wakes the thread in accept(): else the port stays bound
            except OSError:
                pass
            server.close()


def search_memory(binary, work, peers, names):
    """One console search of `peers` fake plain peers, each answering `names` names of 250 bytes: the searching
    peer's peak RSS growth, the search's time and what it listed."""
    answer = b"".join(b"n%07d-" % index + b"x" * 240 + b"\n" for index in range(names))
    fakes = [FakeNamePeer(answer) for _ in range(peers)]
    bootstraps = [argument for fake in fakes for argument in ("--bootstrap", f"127.0.0.1:{fake.port}")]
    console = Peer(binary, os.path.join(work, "searcher"), "--gossip-interval", "3600", *bootstraps, console=True)
    try:
        time.sleep(0.5)
        before = status_kib(console.pid, "VmRSS")
        started = time.monotonic()
        console.send("n")
        at, line = console.wait_for(r"match(es)? \(asked|no matches", timeout=120)
        seconds = at - started
        growth = status_kib(console.pid, "VmHWM") - before
    finally:
        console.stop()
        for fake in fakes:
            fake.stop()
    return growth, seconds, line


class FakeSwarm:
    """`len(kinds)` plain P+2 peers on loopback served by one thread (selectors): each listens on its ports p
    (an empty peer list) and p+1, where its kind answers a query: "answering" sends one name with the query's
    word in it and closes; "silent" accepts and never answers; "dripping" sends a name one byte a second."""

    def __init__(self, kinds):
        self.kinds, self.selector, self.stopped = kinds, selectors.DefaultSelector(), False
        self.listeners, self.held, self.drips, self.ports = [], [], [], []
        for index in range(len(kinds)):
            pair = self.listen_pair()
            self.ports.append(pair[0].getsockname()[1])
            for offset, server in enumerate(pair):
                self.selector.register(server, selectors.EVENT_READ, ("listen", index, offset))
                self.listeners.append(server)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @staticmethod
    def listen_pair():
        """Two listeners on consecutive free ports (p and p+1), below the ephemeral range."""
        while True:
            base = random.randrange(10000, 32000)
            pair = []
            try:
                for port in (base, base + 1):
                    server = socket.socket()
                    pair.append(server)
                    server.bind(("127.0.0.1", port))
                    server.listen(64)
                    server.setblocking(False)
                return pair
            except OSError:
                for server in pair:
                    server.close()

    def identity(self, index):
        return f"127.0.0.1:{self.ports[index]}"

    def run(self):
        while not self.stopped:
            for key, _ in self.selector.select(timeout=0.05):
                what, index, offset = key.data
                if what == "listen":
                    try:
                        connection, _ = key.fileobj.accept()
                    except OSError:
                        continue
                    connection.setblocking(False)
                    self.selector.register(connection, selectors.EVENT_READ, ("request", index, offset))
                    continue
                connection = key.fileobj
                try:
                    request = connection.recv(4096)
                except OSError:
                    request = b""
                kind = self.kinds[index]
                if not request or offset == 0 or request.startswith(b"\x01") or kind == "answering":
                    self.selector.unregister(connection)
                    if request and offset == 1 and not request.startswith(b"\x01") and kind == "answering":
                        try:
                            connection.send(b"common-answer-%04d.txt\n" % index)
                        except OSError:
                            pass
                    connection.close()
                    continue
                self.selector.unregister(connection)  # silent or dripping: held, never read again
                self.held.append(connection)
                if kind == "dripping":
                    self.drips.append([connection, b"common-drip-%04d.txt\n" % index, 0, time.monotonic()])
            now = time.monotonic()
            for drip in self.drips:
                connection, name, sent, due = drip
                if sent < len(name) and now >= due:
                    try:
                        connection.send(name[sent:sent + 1])
                    except OSError:
                        drip[2] = len(name)
                        continue
                    drip[2], drip[3] = sent + 1, due + 1.0

    def stop(self):
        self.stopped = True
        self.thread.join(timeout=5)
        for sock in self.listeners + self.held:
            sock.close()


def search_mixed(binary, work, answering, silent, dripping):
    """One console search of a crowd of fake plain peers, the silent and dripping ones listed before the answering
    ones: the seconds from the query to the result line, the matches listed, and how many answering peers' names
    are among them (every one is the goal, within the search's deadline of 2 x --timeout)."""
    bad = ["silent"] * silent + ["dripping"] * dripping
    kinds = bad[: len(bad) // 2] + ["answering"] * answering + bad[len(bad) // 2:]
    swarm = FakeSwarm(kinds)
    bootstraps = [argument for index in range(len(kinds)) for argument in ("--bootstrap", swarm.identity(index))]
    console = Peer(binary, os.path.join(work, "mixed-searcher"), "--gossip-interval", "3600", "--timeout", "5",
                   *bootstraps, console=True)
    try:
        time.sleep(1.0)
        started = time.monotonic()
        console.send("common")
        at, line = console.wait_for(r"match(es)? \(asked|no matches", timeout=60)
        seconds = at - started
        listed = int(line.split()[0]) if line.split()[0].isdigit() else 0
    finally:
        console.stop()
        swarm.stop()
    return seconds, listed, line
