import Foundation
import PPlus2TestSupport
import Testing

/// Two peers on two hosts of their own: Linux network namespaces that the
/// test creates, joined by a veth pair, with addresses from 198.18.0.0/15 (the
/// range set aside for network tests) that exist only inside them. Each peer
/// binds 0.0.0.0, so it must find its own address by the route to its bootstrap.
@Suite("Across real hosts")
struct NamespaceTests {
    @Test func peersInSeparateNamespacesGossipSearchAndDownload() throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let hostA = "pp2-\(tag)-a"
        let hostB = "pp2-\(tag)-b"
        do {
            try ip(["netns", "add", hostA])
        } catch {
            try Test.cancel("skipped: cannot create a network namespace here (needs root and iproute2): \(error)")
        }
        defer { try? ip(["netns", "del", hostA]) }
        try ip(["netns", "add", hostB])
        defer { try? ip(["netns", "del", hostB]) }  // deleting a namespace deletes its end of the veth too
        try ip(["-n", hostA, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", hostB])
        for (host, address) in [(hostA, "198.18.0.1/24"), (hostB, "198.18.0.2/24")] {
            try ip(["-n", host, "addr", "add", address, "dev", "veth0"])
            try ip(["-n", host, "link", "set", "veth0", "up"])
            try ip(["-n", host, "link", "set", "lo", "up"])
        }

        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folderA = try temporary.folder("a")
        let content = randomBytes(3 << 20, seed: 77)
        try writeFile(folderA + "/alpha data.bin", content)
        let folderB = try temporary.folder("b")

        // Port 5000 is free: each namespace has its own ports.
        let (peerA, _) = try PeerProcess.startPeer(
            withPortOptions: [
                "--port", "5000", "--dir", folderA, "--no-console", "--gossip-interval", "0.2",
                "--bootstrap", "198.18.0.2:5000",
            ],
            launcher: ["/usr/sbin/ip", "netns", "exec", hostA]
        )
        defer { _ = peerA.stop() }
        let (peerB, _) = try PeerProcess.startPeer(
            withPortOptions: [
                "--port", "5000", "--dir", folderB, "--gossip-interval", "0.2", "--bootstrap", "198.18.0.1:5000",
            ],
            launcher: ["/usr/sbin/ip", "netns", "exec", hostB]
        )
        defer { _ = peerB.stop() }

        // Gossip: B finds A alive, under A's namespace address, and nothing else.
        var peersOutput: [String] = []
        let alive = waitUntil(timeout: 10) {
            let before = peerB.stdoutLines.count
            peerB.send("/peers")
            _ = peerB.waitForStdout(containing: "known peer", after: before, timeout: 2)
            usleep(200_000)
            peersOutput = Array(peerB.stdoutLines.dropFirst(before))
            return peersOutput.contains { $0.contains("198.18.0.1:5000") && $0.contains("alive") }
        }
        #expect(alive, "\(peersOutput)")
        #expect(peersOutput.first == "this peer: 198.18.0.2:5000; 1 known peer")

        // A learned B by the identity B advertises: its own namespace address.
        var listOfA = ""
        let learned = waitUntil(timeout: 10) {
            listOfA = (try? probe(in: hostA, port: 5000, line: "")) ?? ""
            return listOfA == "198.18.0.2:5000\n"
        }
        #expect(learned, "A lists \(listOfA.debugDescription)")

        // Search and download across the link.
        let before = peerB.stdoutLines.count
        peerB.send("ALPHA")
        let listing = peerB.waitForStdout(containing: "1) ", after: before, timeout: 10)
        #expect(listing == "  1) alpha data.bin  [198.18.0.1:5000]")
        peerB.send("1")
        #expect(peerB.waitForStdout(containing: "saved alpha data.bin", after: before, timeout: 20) != nil)
        #expect(readFile(folderB + "/alpha data.bin") == content)
    }

    private func ip(_ arguments: [String]) throws {
        try runCommand("/usr/sbin/ip", arguments)
    }

    /// Sends one line to `port` from inside a namespace (python3's socket module
    /// does it; the test process itself stays in the machine's namespace).
    private func probe(in host: String, port: Int, line: String) throws -> String {
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", \(port)), timeout=5)
            s.sendall(sys.argv[1].encode() + b"\\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            sys.stdout.write(data.decode())
            """
        return try runCommand("/usr/sbin/ip", ["netns", "exec", host, "python3", "-c", script, line])
    }
}
