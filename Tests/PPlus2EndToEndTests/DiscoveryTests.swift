import Foundation
import PPlus2TestSupport
import Testing

/// LAN discovery (`--discover`) between hosts of their own (`TestNetwork`,
/// multicast on the veth link), against our own peers and against two mDNS
/// implementations we did not write: python-zeroconf (PyPI) and avahi (Debian).
@Suite("LAN discovery across real hosts")
struct DiscoveryTests {
    /// The `/peers` table of a console peer, once a row satisfies `condition`
    /// (or the last table seen, after `timeout`).
    func peersTable(of peer: PeerProcess, timeout: Double, until condition: (String) -> Bool) -> [String] {
        var rows: [String] = []
        _ = waitUntil(timeout: timeout) {
            let before = peer.stdoutLines.count
            peer.send("/peers")
            _ = peer.waitForStdout(containing: "known peer", after: before, timeout: 2)
            usleep(150_000)
            rows = Array(peer.stdoutLines.dropFirst(before))
            return rows.contains(where: condition)
        }
        return rows
    }

    func startPeer(_ network: TestNetwork, host: Int, _ options: [String]) throws -> PeerProcess {
        try PeerProcess.startPeer(withPortOptions: ["--port", "5000"] + options, launcher: network.launcher(host)).0
    }

    @Test func twoDiscoveringPeersFindEachOtherGossipDownloadAndSayGoodbye() throws {
        let network = try TestNetwork()
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folderA = try temporary.folder("a")
        let content = randomBytes(1 << 20, seed: 5)
        try writeFile(folderA + "/alpha.bin", content)
        let folderB = try temporary.folder("b")

        // No --bootstrap, no --host: each finds its LAN address and the other.
        let peerA = try startPeer(network, host: 0, ["--dir", folderA, "--no-console", "--discover", "--verbose"])
        defer { _ = peerA.stop() }
        let peerB = try startPeer(network, host: 1, ["--dir", folderB, "--discover", "--gossip-interval", "0.5"])
        defer { _ = peerB.stop() }
        #expect(peerB.waitForStderr(containing: "LAN discovery: on, as", timeout: 5)?.contains("on veth0") == true)
        #expect(peerB.stderrText.contains("this peer: 198.18.0.2:5000"))

        // B lists A as discovered; A learned B (by discovery or B's gossip) and lists it.
        let rows = peersTable(of: peerB, timeout: 15) { $0.contains("198.18.0.1:5000") && $0.contains("discovered") }
        #expect(rows.contains { $0.contains("198.18.0.1:5000") && $0.contains("discovered") }, "\(rows)")
        var listOfA = ""
        #expect(
            waitUntil(timeout: 10) {
                listOfA = (try? network.probe(host: 0, port: 5000, line: "")) ?? ""
                return listOfA == "198.18.0.2:5000\n"
            },
            "A lists \(listOfA.debugDescription)"
        )
        // Same host name, same port: the same default instance name; one was renamed.
        let renamed = (peerA.stderrText + peerB.stderrText).contains("(2)\"")
        #expect(renamed, "\(peerA.stderrText)\n\(peerB.stderrText)")

        // Search and download through B's console.
        let before = peerB.stdoutLines.count
        peerB.send("alpha")
        #expect(
            peerB.waitForStdout(containing: "1) ", after: before, timeout: 10) == "  1) alpha.bin  [198.18.0.1:5000]"
        )
        peerB.send("1")
        #expect(peerB.waitForStdout(containing: "saved alpha.bin", after: before, timeout: 20) != nil)
        #expect(readFile(folderB + "/alpha.bin") == content)

        // A stops cleanly: its goodbye drops it from B's list within a second or two.
        let stopped = Date()
        #expect(peerA.stop() == 0)
        let after = peersTable(of: peerB, timeout: 3) { $0.contains("198.18.0.1:5000") && $0.contains("said goodbye") }
        #expect(
            after.contains { $0.contains("198.18.0.1:5000") && $0.contains("dropped (said goodbye)") },
            "\(after)"
        )
        #expect(Date().timeIntervalSince(stopped) < 3.5)
    }

    @Test func aKilledPeerExpiresByTTL() throws {
        let network = try TestNetwork()
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        // A announces a 3 s TTL. Gossip is slow on both sides (60 s), so only
        // the TTL can make B drop A in time.
        let peerA = try startPeer(
            network,
            host: 0,
            [
                "--dir", try temporary.folder("a"), "--no-console", "--discover", "--discovery-ttl", "3",
                "--gossip-interval", "60",
            ]
        )
        defer { peerA.kill() }
        let peerB = try startPeer(
            network,
            host: 1,
            ["--dir", try temporary.folder("b"), "--discover", "--gossip-interval", "60"]
        )
        defer { _ = peerB.stop() }
        let found = peersTable(of: peerB, timeout: 15) { $0.contains("198.18.0.1:5000") && $0.contains("discovered") }
        #expect(found.contains { $0.contains("198.18.0.1:5000") }, "\(found)")

        peerA.kill()  // SIGKILL: no goodbye
        let killed = Date()
        let rows = peersTable(of: peerB, timeout: 10) { $0.contains("198.18.0.1:5000") && $0.contains("dropped") }
        #expect(rows.contains { $0.contains("198.18.0.1:5000") && $0.contains("dropped (expired)") }, "\(rows)")
        #expect(Date().timeIntervalSince(killed) < 6)
    }

    @Test func saysWhyWhenMulticastIsOff() throws {
        let network = try TestNetwork(multicast: false)
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let peer = try startPeer(
            network,
            host: 0,
            ["--dir", try temporary.folder("a"), "--no-console", "--discover", "--host", "198.18.0.1"]
        )
        defer { _ = peer.stop() }
        let line = peer.waitForStderr(containing: "LAN discovery: unavailable", timeout: 5)
        #expect(
            line == "LAN discovery: unavailable: interface veth0 (198.18.0.1) has multicast turned off "
                + "(ip link set veth0 multicast on)"
        )
        #expect(peer.stderrText.contains("pplus2: LAN discovery unavailable: interface veth0"))
        // It still serves.
        #expect((try? network.probe(host: 0, port: 5000, line: "")) == "")
    }

    @Test func saysWhyALoopbackPeerCannotBeDiscovered() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (peer, _) = try PeerProcess.startPeer(["--dir", try temporary.folder("a"), "--no-console", "--discover"])
        defer { _ = peer.stop() }
        let line = peer.waitForStderr(containing: "LAN discovery: unavailable", timeout: 5)
        #expect(line?.contains("127.0.0.1, a loopback address: give --host or --bind a LAN address") == true)
    }

    /// 5000 well-formed announcements of distinct peers and 5000 garbage
    /// packets, from the other host: the peer tracks at most 256 instances,
    /// its memory stays small, and it still answers.
    @Test func aFloodOfAnnouncementsAndGarbageStaysBounded() throws {
        let network = try TestNetwork()
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let peer = try startPeer(
            network,
            host: 0,
            ["--dir", try temporary.folder("a"), "--no-console", "--discover", "--gossip-interval", "600"]
        )
        defer { _ = peer.stop() }
        #expect(peer.waitForStderr(containing: "LAN discovery: on", timeout: 5) != nil)
        let flood = """
            import os, random, socket, struct, time
            def name(*labels):
                return b"".join(bytes([len(l)]) + l for l in labels) + b"\\0"
            service = name(b"_pplus2", b"_tcp", b"local")
            def record(owner, rtype, data, flush=0x8000):
                return owner + struct.pack(">HHIH", rtype, 1 | flush, 120, len(data)) + data
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rng = random.Random(7)
            for n in range(5000):
                label = b"spam %d" % n
                host = name(b"h%d" % n, b"local")
                instance = bytes([len(label)]) + label + service
                body = record(service, 12, instance, 0) + record(instance, 33, struct.pack(">HHH", 0, 0, 5000) + host)
                body += record(host, 1, bytes([10, n >> 16 & 255, n >> 8 & 255, n & 255]))
                s.sendto(struct.pack(">HHHHHH", 0, 0x8400, 0, 3, 0, 0) + body, ("198.18.0.1", 5353))
                s.sendto(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 600))), ("198.18.0.1", 5353))
                if n % 16 == 15:
                    time.sleep(0.003)  # paced: a burst would only fill the socket buffer
            """
        _ = try runCommand("/usr/sbin/ip", ["netns", "exec", network.hosts[1], "python3", "-c", flood])
        var list = ""
        _ = waitUntil(timeout: 10) {
            list = (try? network.probe(host: 0, port: 5000, line: "")) ?? ""
            return list.split(separator: "\n").count >= 256
        }
        let peers = list.split(separator: "\n")
        #expect(peers.count == 256, "the browser tracks at most 256 instances")
        #expect(peers.allSatisfy { $0.hasPrefix("10.") && $0.hasSuffix(":5000") })
        let status = (try? String(contentsOfFile: "/proc/\(peer.pid)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
            .split(separator: " ").dropFirst().first.flatMap { Int($0) }
        #expect(rss.map { $0 < 64 * 1024 } == true, "VmRSS \(rss ?? -1) KiB")
        #expect(peer.process.isRunning)
    }

    // MARK: Against python-zeroconf

    static let zeroconfBrowse = """
        import sys, time
        from zeroconf import Zeroconf, ServiceBrowser, ServiceListener, IPVersion
        zc = Zeroconf(ip_version=IPVersion.V4Only)
        names = set()
        class Listener(ServiceListener):
            def add_service(self, zc, type_, name): names.add(name)
            def update_service(self, zc, type_, name): names.add(name)
            def remove_service(self, zc, type_, name): pass
        ServiceBrowser(zc, "_pplus2._tcp.local.", Listener())
        want, deadline, seen = int(sys.argv[1]), time.time() + float(sys.argv[2]), set()
        while time.time() < deadline and len(seen) < want:
            for name in sorted(names - seen):
                info = zc.get_service_info("_pplus2._tcp.local.", name, timeout=1000)
                if info and info.parsed_addresses():
                    seen.add(name)
                    version = (info.properties or {}).get(b"v") or b""
                    print("%s %s:%d v=%s" % (name, info.parsed_addresses()[0], info.port, version.decode()), flush=True)
            time.sleep(0.1)
        zc.close()
        """

    static let zeroconfPublish = """
        import socket, sys
        from zeroconf import Zeroconf, ServiceInfo, IPVersion
        zc = Zeroconf(ip_version=IPVersion.V4Only)
        info = ServiceInfo("_pplus2._tcp.local.", sys.argv[1] + "._pplus2._tcp.local.",
                           addresses=[socket.inet_aton(sys.argv[2])], port=int(sys.argv[3]),
                           properties={"v": "1"}, server="zeroconf-test-host.local.")
        zc.register_service(info)
        print("published", flush=True)
        try:
            sys.stdin.read()
        finally:
            zc.unregister_service(info)
            zc.close()
        """

    @Test func interoperatesWithPythonZeroconf() throws {
        do {
            try runCommand("/usr/bin/env", ["python3", "-c", "import zeroconf"])
        } catch {
            try Test.cancel("skipped: python3 -m pip install zeroconf (.ci/run does) to run this test")
        }
        let network = try TestNetwork()
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }

        // Host A: zeroconf holds port 5353 first, publishing an instance for a
        // plain (non-discovering) pplus2 on port 6000; then our discovering
        // peer shares the port with it.
        let publisher = try PeerProcess(
            command: network.launcher(0) + [
                "/usr/bin/env", "python3", "-c", Self.zeroconfPublish, "zeroconf peer", "198.18.0.1", "6000",
            ]
        )
        defer {
            publisher.closeInput()
            if publisher.waitForExit(timeout: 5) == nil { publisher.kill() }
        }
        #expect(publisher.waitForStdout(containing: "published", timeout: 15) != nil, "\(publisher.stderrText)")
        let plain = try PeerProcess.startPeer(
            withPortOptions: ["--port", "6000", "--dir", try temporary.folder("plain"), "--no-console"],
            launcher: network.launcher(0)
        ).0
        defer { _ = plain.stop() }
        let peerA = try startPeer(network, host: 0, ["--dir", try temporary.folder("a"), "--no-console", "--discover"])
        defer { _ = peerA.stop() }
        let peerB = try startPeer(network, host: 1, ["--dir", try temporary.folder("b"), "--discover"])
        defer { _ = peerB.stop() }

        // zeroconf on host B sees and resolves both our peers (and its own kind).
        let browser = try PeerProcess(
            command: network.launcher(1) + ["/usr/bin/env", "python3", "-c", Self.zeroconfBrowse, "3", "20"]
        )
        defer { browser.kill() }
        _ = browser.waitForExit(timeout: 25)
        let seen = browser.stdoutLines
        #expect(
            seen.contains { $0.hasSuffix("._pplus2._tcp.local. 198.18.0.1:5000 v=1") },
            "\(seen) \(browser.stderrText)"
        )
        #expect(seen.contains { $0.hasSuffix("._pplus2._tcp.local. 198.18.0.2:5000 v=1") }, "\(seen)")
        #expect(seen.contains("zeroconf peer._pplus2._tcp.local. 198.18.0.1:6000 v=1"), "\(seen)")

        // Our peers discover what zeroconf publishes: B across the link, A
        // through the port it shares with zeroconf.
        let rows = peersTable(of: peerB, timeout: 10) { $0.contains("198.18.0.1:6000") }
        #expect(
            rows.contains { $0.contains("198.18.0.1:6000") && $0.contains("discovered as \"zeroconf peer\"") },
            "\(rows)"
        )
        var listOfA = ""
        #expect(
            waitUntil(timeout: 10) {
                listOfA = (try? network.probe(host: 0, port: 5000, line: "")) ?? ""
                return listOfA.contains("198.18.0.1:6000\n")
            },
            "A lists \(listOfA.debugDescription)"
        )
    }

    // MARK: Against avahi

    /// A system bus of the test's own: avahi's tools talk to its daemon over D-Bus.
    static let busConfiguration = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>system</type>
          <listen>unix:path=BUS</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/><allow own="*"/>
            <allow send_type="method_call"/><allow send_type="signal"/>
            <allow send_type="method_return"/><allow send_type="error"/>
            <allow receive_type="method_call"/><allow receive_type="signal"/>
            <allow receive_type="method_return"/><allow receive_type="error"/>
          </policy>
        </busconfig>
        """

    static let avahiConfiguration = """
        [server]
        use-ipv4=yes
        use-ipv6=no
        allow-interfaces=veth0
        [publish]
        publish-workstation=no
        publish-hinfo=no
        """

    /// The tools, as `.ci/run` installs them from Debian.
    static let avahiTools = [
        "/usr/sbin/avahi-daemon", "/usr/bin/avahi-browse", "/usr/bin/avahi-publish",
        "/usr/bin/dbus-daemon",
    ]

    @Test func interoperatesWithAvahi() throws {
        guard Self.avahiTools.allSatisfy(FileManager.default.isExecutableFile(atPath:)) else {
            try Test.cancel("skipped: apt-get install avahi-daemon avahi-utils dbus (.ci/run does) to run this test")
        }
        let network = try TestNetwork()
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let setup = try temporary.folder("avahi")
        let bus = setup + "/bus"
        try writeFile(setup + "/bus.conf", Array(Self.busConfiguration.replacingOccurrences(of: "BUS", with: bus).utf8))
        try writeFile(setup + "/avahi.conf", Array(Self.avahiConfiguration.utf8))
        let dbus = try PeerProcess(command: ["/usr/bin/dbus-daemon", "--nofork", "--config-file=\(setup)/bus.conf"])
        defer { dbus.kill() }
        #expect(waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: bus) }, "\(dbus.stderrText)")
        let onBus = ["/usr/bin/env", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + bus]

        // Host A: avahi-daemon holds port 5353 first and publishes an
        // instance for port 6000. Its pid file goes to a /run of its own
        // (`ip netns exec` gives it a private mount namespace). A shell stays
        // its parent: avahi-daemon closes every descriptor it inherits, and
        // Foundation's Process takes that for the child's exit and blocks in
        // waitpid. The shell passes SIGTERM on, so the daemon says goodbye.
        let daemon = try PeerProcess(
            command: network.launcher(0) + onBus + [
                "/bin/sh", "-c",
                """
                mount -t tmpfs tmpfs /run && mkdir /run/avahi-daemon || exit 1
                /usr/sbin/avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$0" & daemon=$!
                trap 'kill $daemon; wait $daemon; exit 0' TERM
                wait $daemon
                """,
                setup + "/avahi.conf",
            ]
        )
        defer { if daemon.stop(timeout: 5) == nil { daemon.kill() } }
        #expect(daemon.waitForStderr(containing: "Server startup complete", timeout: 15) != nil, "\(daemon.stderrText)")
        let publisher = try PeerProcess(
            command: network.launcher(0) + onBus + [
                "/usr/bin/avahi-publish", "-s", "avahi peer", "_pplus2._tcp", "6000", "v=1",
            ]
        )
        defer { publisher.kill() }
        #expect(publisher.waitForStderr(containing: "Established", timeout: 10) != nil, "\(publisher.stderrText)")

        // Our peers: A shares 5353 with avahi-daemon, B is across the link.
        let peerA = try startPeer(
            network,
            host: 0,
            ["--dir", try temporary.folder("a"), "--no-console", "--discover", "--verbose"]
        )
        defer { _ = peerA.stop() }
        let peerB = try startPeer(network, host: 1, ["--dir", try temporary.folder("b"), "--discover"])
        defer { _ = peerB.stop() }

        // avahi resolves both our peers: name, host, address, port, TXT.
        let browser = try PeerProcess(
            command: network.launcher(0) + onBus + ["/usr/bin/avahi-browse", "-r", "-p", "_pplus2._tcp"]
        )
        defer { browser.kill() }
        let resolvedA = browser.waitForStdout(containing: ";198.18.0.1;5000;\"v=1\"", timeout: 15)
        #expect(resolvedA?.contains(";pplus2-198-18-0-1-5000.local;") == true, "\(browser.stdoutLines)")
        let resolvedB = browser.waitForStdout(containing: ";198.18.0.2;5000;\"v=1\"", timeout: 15)
        #expect(resolvedB?.contains(";pplus2-198-18-0-2-5000.local;") == true, "\(browser.stdoutLines)")

        // Our peers discover avahi's instance: B across the link, A through the shared port.
        let rows = peersTable(of: peerB, timeout: 10) { $0.contains("198.18.0.1:6000") }
        #expect(
            rows.contains { $0.contains("198.18.0.1:6000") && $0.contains("discovered as \"avahi peer\"") },
            "\(rows)"
        )
        #expect(peerA.waitForStderr(containing: "discovered 198.18.0.1:6000 (\"avahi peer\")", timeout: 10) != nil)

        // B stops cleanly: avahi drops B's instance on its goodbye.
        let instanceB = resolvedB?.split(separator: ";").dropFirst(3).first.map(String.init) ?? "?"
        #expect(peerB.stop() == 0)
        let removed = waitUntil(timeout: 3) {
            browser.stdoutLines.contains { $0.hasPrefix("-;veth0;IPv4;\(instanceB);_pplus2._tcp;local") }
        }
        #expect(removed, "\(browser.stdoutLines)")
    }
}
