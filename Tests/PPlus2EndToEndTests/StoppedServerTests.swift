import Foundation
import PPlus2TestSupport
import Testing

/// A serving peer stopped while it sends (SIGTERM, SIGKILL), on a link slow
/// enough to stop it midway (`tc tbf` on a veth pair of the test's own): the
/// downloader never keeps a cut file under the real name; it keeps the partial
/// and resumes it from a second peer that holds the same file.
@Suite("A serving peer stopped mid-transfer")
struct StoppedServerTests {
    @Test(arguments: [SIGTERM, SIGKILL])
    func theDownloaderKeepsNothingCutAndResumesFromAnotherPeer(signal: Int32) throws {
        let network = try TestNetwork()
        defer { network.remove() }
        // 40 Mbit/s out of host A: an 8 MiB file takes about 1.7 s.
        try runCommand(
            "/usr/sbin/ip",
            [
                "netns", "exec", network.hosts[0], "tc", "qdisc", "add", "dev", "veth0", "root", "tbf", "rate",
                "40mbit",
                "burst", "32kbit", "latency", "400ms",
            ]
        )
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(8 << 20, seed: 31)
        let folders = [try temporary.folder("a1"), try temporary.folder("a2")]
        for folder in folders { try writeFile(folder + "/big.bin", content) }
        var servers: [PeerProcess] = []
        for (index, port) in ["5000", "6000"].enumerated() {
            let (server, _) = try PeerProcess.startPeer(
                withPortOptions: ["--port", port, "--dir", folders[index], "--no-console", "--verbose"],
                launcher: network.launcher(0)
            )
            servers.append(server)
        }
        defer { for server in servers { _ = server.stop() } }
        // Both have hashed the file: only a known content is kept to be resumed.
        for port in [5001, 6001] {
            #expect(
                waitUntil(timeout: 10) {
                    ((try? network.probe(host: 0, port: port, line: "\u{1}find big")) ?? "").contains(" big.bin")
                        && !((try? network.probe(host: 0, port: port, line: "\u{1}find big")) ?? "").contains(
                            " - big.bin"
                        )
                }
            )
        }
        let mine = try temporary.folder("mine")
        let (console, _) = try PeerProcess.startPeer(
            withPortOptions: [
                "--port", "5000", "--dir", mine, "--bootstrap", "198.18.0.1:5000", "--bootstrap", "198.18.0.1:6000",
                "--gossip-interval", "60", "--timeout", "2",
            ],
            launcher: network.launcher(1)
        )
        defer { _ = console.stop() }

        console.send("big")
        #expect(console.waitForStdout(containing: "2 matches", timeout: 10) != nil, "\(console.stdoutLines)")
        #expect(console.stdoutLines.contains("  1) big.bin  [198.18.0.1:5000]  \(content.count)"))
        console.send("1")
        // Midway: the partial holds some bytes, not all.
        // (its last piece first, then from the start: past 3 MiB, whole pieces from the start are there)
        #expect(waitUntil(timeout: 10) { partialBytes(in: mine) > 3 << 20 })
        _ = servers[0].stop(signal: signal)

        let stopped = console.waitForStdout(containing: "from 198.18.0.1:5000 stopped:", timeout: 15)
        #expect(stopped?.contains("kept: picking this file again resumes") == true, "\(console.stdoutLines)")
        #expect(stopped?.contains("nothing saved") == false, "one outcome, without a contradiction")
        #expect(readFile(mine + "/big.bin") == nil)
        let kept = TemporaryFolder.names(in: mine).filter { !$0.hasSuffix(".name") }  // the kept file, not its label
        #expect(kept.count == 1 && kept[0].hasPrefix(".pplus2-keep-"), "\(kept)")

        #expect(console.waitForStdout(containing: "press Enter to try 198.18.0.1:6000", timeout: 5) != nil)
        console.send("")
        let saved = console.waitForStdout(containing: "saved big.bin", timeout: 20)
        #expect(saved?.contains("resumed from") == true, "\(console.stdoutLines)")
        #expect(saved?.contains("verified sha256") == true)
        #expect(readFile(mine + "/big.bin") == content)
        #expect(TemporaryFolder.names(in: mine) == ["big.bin"])
        // The second peer was asked from where the first stopped (the pieces
        // checked before the break-off: at least the first MiB), not from 0.
        let served = servers[1].stderrText.split(separator: "\n").first { $0.contains("download \"big.bin\"") }
        let offset = served.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
        #expect(offset >= 1 << 20 && offset % (1 << 20) == 0, "\(served ?? "")")
    }
}

/// Bytes in the partial downloads of `folder` (the active or kept hidden files).
/// The bytes written into the partials of `folder`: their allocated blocks,
/// not their size (a download's first piece is the file's last, written at
/// its offset, so a partial has its full size from its first piece on).
private func partialBytes(in folder: String) -> Int {
    TemporaryFolder.names(in: folder).filter { $0.hasSuffix(".part") }.reduce(0) { total, name in
        var status = stat()
        guard stat(folder + "/" + name, &status) == 0 else { return total }
        return total + Int(status.st_blocks) * 512
    }
}
