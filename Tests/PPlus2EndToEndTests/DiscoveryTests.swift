import Foundation
import PPlus2Core
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
            peerB.waitForStdout(containing: "1) ", after: before, timeout: 10)
                == "  1) alpha.bin  [198.18.0.1:5000]  1048576"
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
        // The first gossip turn comes a quarter second after the start: past it,
        // the next is 600 s away, and no contact marks a flooded peer failing.
        usleep(500_000)
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
        // Every instance the browser tracks, up to what an answer relays.
        let relayed = min(PeerTable.Policy(gossipInterval: 10).maxUnverifiedRelayed, MulticastDNSBrowser.maxInstances)
        var list = ""
        _ = waitUntil(timeout: 10) {
            list = (try? network.probe(host: 0, port: 5000, line: "")) ?? ""
            return list.split(separator: "\n").count >= relayed
        }
        let peers = list.split(separator: "\n")
        // Discovered peers are unverified until they answer a contact of ours:
        // the browser tracks at most `maxInstances` of them and an answer
        // relays at most `maxUnverifiedRelayed` (the RSS bound below holds too).
        #expect(peers.count == relayed, "an answer relays at most \(relayed) unverified peers")
        #expect(peers.allSatisfy { $0.hasPrefix("10.") && $0.hasSuffix(":5000") })
        let status = (try? String(contentsOfFile: "/proc/\(peer.pid)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
            .split(separator: " ").dropFirst().first.flatMap { Int($0) }
        if sanitizerSlowdown == 1 {  // shadow memory multiplies a sanitized process's RSS
            #expect(rss.map { $0 < 64 * 1024 } == true, "VmRSS \(rss ?? -1) KiB")
        }
        #expect(peer.process.isRunning)
    }
}
