import Foundation
import PPlus2TestSupport
import Testing

/// Two peers on two hosts of their own (`TestNetwork`). Each peer binds
/// 0.0.0.0, so it must find its own address by the route to its bootstrap.
@Suite("Across real hosts")
struct NamespaceTests {
    @Test func peersInSeparateNamespacesGossipSearchAndDownload() throws {
        let network = try TestNetwork()
        defer { network.remove() }

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
            launcher: network.launcher(0)
        )
        defer { _ = peerA.stop() }
        let (peerB, _) = try PeerProcess.startPeer(
            withPortOptions: [
                "--port", "5000", "--dir", folderB, "--gossip-interval", "0.2", "--bootstrap", "198.18.0.1:5000",
            ],
            launcher: network.launcher(1)
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
            listOfA = (try? network.probe(host: 0, port: 5000, line: "")) ?? ""
            return listOfA == "198.18.0.2:5000\n"
        }
        #expect(learned, "A lists \(listOfA.debugDescription)")

        // Search and download across the link.
        let before = peerB.stdoutLines.count
        peerB.send("ALPHA")
        let listing = peerB.waitForStdout(containing: "1) ", after: before, timeout: 10)
        #expect(listing == "  1) alpha data.bin  [198.18.0.1:5000]  3145728")
        peerB.send("1")
        #expect(peerB.waitForStdout(containing: "saved alpha data.bin", after: before, timeout: 20) != nil)
        #expect(readFile(folderB + "/alpha data.bin") == content)
    }
}
