"""The shared harness: processes started and always stopped, peers, ports, raw requests, timing, building."""

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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository
GIB = 1 << 30
MIB = 1 << 20
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
started_processes = []


# ---------------------------------------------------------------- processes


def spawn(arguments, **options):
    process = subprocess.Popen(arguments, **options)
    started_processes.append(process)
    return process


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_all():
    for process in reversed(started_processes):
        stop(process)


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Peer:
    """A pplus2 process on 127.0.0.1 with free ports; its console on pipes."""

    def __init__(self, binary, folder, *arguments, console=False, launcher=(), bind="127.0.0.1"):
        os.makedirs(folder, exist_ok=True)
        self.started = time.monotonic()
        command = [*launcher, binary, "--port", "0", "--bind", bind, "--dir", folder, *arguments]
        if not console:
            command.append("--no-console")
        self.process = spawn(
            command,
            stdin=subprocess.PIPE if console else subprocess.DEVNULL,
            stdout=subprocess.PIPE if console else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.pid = self.process.pid
        line = read_line(self.process.stderr, timeout=10)
        self.ready_after = time.monotonic() - self.started
        match = re.match(r"listening on [0-9.]+:(\d+) ", line or "")
        if not match:
            raise RuntimeError(f"peer did not start: {line!r}")
        self.port = int(match.group(1))
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # keep stderr drained
        self.lines = queue.Queue()
        if console:
            threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for raw in self.process.stdout:
            self.lines.put((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))

    def send(self, line):
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    def wait_for(self, pattern, timeout):
        """The time and text of the next console line matching `pattern`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                at, line = self.lines.get(timeout=max(0.001, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"no console line matching {pattern!r} within {timeout} s")
            if re.search(pattern, line):
                return at, line

    def stop(self):
        stop(self.process)


def read_line(stream, timeout):
    result = []
    reader = threading.Thread(target=lambda: result.append(stream.readline().decode().rstrip("\n")), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


def request(port, line, timeout=5, source=None, host="127.0.0.1"):
    """One P+2 exchange with `host`: the answer's bytes (from the loopback address `source` if given)."""
    with socket.create_connection((host, port), timeout=timeout,
                                  source_address=(source, 0) if source else None) as connection:
        connection.sendall(line.encode() + b"\n")
        chunks = []
        while True:
            chunk = connection.recv(1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def timed(command):
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return time.monotonic() - started


# ---------------------------------------------------------------- setup


def build(work):
    if not all(shutil.which(tool) for tool in ("socat", "curl", "openssl", "rsync")):
        print("installing socat, curl, openssl and rsync from Debian's packages...", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "socat", "curl", "openssl", "rsync"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    print("building pplus2 (release) and the C tools...", file=sys.stderr)
    for product in ("pplus2", "pplus2-sha256"):
        subprocess.run(["swift", "build", "-c", "release", "--product", product, "--package-path", ROOT],
                       check=True, stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--package-path", ROOT, "--show-bin-path"],
                              check=True, capture_output=True, text=True).stdout.strip()
    tools = {}
    for name in ("sendfile_server", "sink_client", "crowd_client"):
        tools[name] = os.path.join(work, name)
        subprocess.run(["gcc", "-O2", "-o", tools[name], os.path.join(ROOT, "scripts/bench-tools", name + ".c")],
                       check=True)
    # With the shim's SHA-256 block function, built by the toolchain's clang as SwiftPM builds the shim.
    shims = os.path.join(ROOT, "Sources/CPPlus2Shims")
    tools["verified_sink"] = os.path.join(work, "verified_sink")
    subprocess.run([shutil.which("clang") or "gcc", "-O2", "-pthread", "-I", os.path.join(shims, "include"), "-o",
                    tools["verified_sink"], os.path.join(ROOT, "scripts/bench-tools/verified_sink.c"),
                    os.path.join(shims, "sha256.c")], check=True)
    empty = os.path.join(work, "empty_swift")
    subprocess.run(["swiftc", "-O", "-o", empty, os.path.join(ROOT, "scripts/bench-tools/empty.swift")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tools["empty"] = empty
    tools["sha256"] = os.path.join(bin_path, "pplus2-sha256")
    return os.path.join(bin_path, "pplus2"), tools


def make_file(path, size):
    block = os.urandom(MIB)
    with open(path, "wb") as out:
        for _ in range(size // MIB):
            out.write(block)

def wait_until_hashed(port, count, timeout=120, each=None):
    """Polls `\x01find` until the peer lists `count` files, all with a hash;
    calls `each()` between polls. Returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        lines = request(port + 1, "\x01find ", timeout=10).split(b"\n")[1:-1]
        if len(lines) >= count and all(line.split(b" ")[1] != b"-" for line in lines):
            return time.monotonic() - started
        if each:
            each()
        time.sleep(0.05)
    raise RuntimeError(f"the peer on {port} did not hash {count} files within {timeout} s")
