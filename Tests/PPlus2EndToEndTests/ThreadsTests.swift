import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// What an idle peer costs: its threads (the event loop, gossip, hashing, the
/// folder index, the console, main), whatever it served before.
@Suite struct ThreadsTests {
    @Test func anIdlePeerRunsAtMostSixThreads() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("f.txt"), randomBytes(1 << 20, seed: 3))
        let (peer, port) = try PeerProcess.startPeer(["--dir", temporary.path])
        defer { _ = peer.stop() }
        // Serve a little first: nothing it does for callers may leave a thread behind.
        for _ in 0..<8 { _ = wireRequest(port: port + 2, line: "f.txt") }
        #expect(wireRequest(port: port + 1, line: "f").lines == ["f.txt"])
        usleep(300_000)
        let threads = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(peer.pid)/task")) ?? []).count
        #expect(threads >= 1 && threads <= 6, "\(threads) threads")
    }
}

/// Out of descriptors by a flood from one address: the flood's oldest idle
/// connections make room, never the honest callers'.
@Suite struct DescriptorFloodTests {
    @Test func aThousandIdleConnectionsUnderAFewDescriptorsLeaveRoomForAnotherAddress() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else {
            try Test.cancel("skipped: /usr/bin/prlimit (util-linux) is not installed")
        }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(1 << 20, seed: 9)
        try writeFile(temporary.file("f.bin"), content)
        let (peer, port) = try PeerProcess.startPeer(
            withPortOptions: ["--port", "0", "--bind", "127.0.0.1", "--dir", temporary.path, "--no-console"],
            launcher: ["/usr/bin/prlimit", "--nofile=256:256", "--"]
        )
        defer { _ = peer.stop() }
        var flood: [TCPSocket] = []
        for index in 0..<1000 {
            if let socket = try? TCPSocket.connect(address: 0x7F00_0001, port: port + UInt16(index % 3), timeout: 2) {
                flood.append(socket)
            }
        }
        let started = MonotonicClock.now
        let query = try TCPSocket.connect(address: 0x7F00_0001, port: port + 1, timeout: 2, from: 0x7F00_0002)
        try query.send(Array("f\n".utf8), idleTimeout: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var answer: [UInt8] = []
        while let count = try? query.receive(into: &buffer, timeout: 2), count > 0 { answer += buffer[..<count] }
        #expect(answer == Array("f.bin\n".utf8))
        let download = try TCPSocket.connect(address: 0x7F00_0001, port: port + 2, timeout: 2, from: 0x7F00_0002)
        try download.send(Array("f.bin\n".utf8), idleTimeout: 2)
        var received = 0
        while let count = try? download.receive(into: &buffer, timeout: 2), count > 0 { received += count }
        #expect(received == content.count)
        #expect(MonotonicClock.now - started < 2, "answered after \(MonotonicClock.now - started) s")
        #expect(peer.openDescriptors <= 256 && peer.process.isRunning)
        flood.removeAll()
    }
}

/// A script on a pipe sees the swarm: its first query waits for the first
/// gossip contact with the bootstrap, so a peer the bootstrap knows is asked too.
@Suite struct PipeScriptTests {
    @Test func aScriptsFirstQueryAsksTheBootstrapsNeighbours() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let bootstrapFolder = try temporary.folder("b")
        let farFolder = try temporary.folder("c")
        try writeFile(farFolder + "/far-away.txt", [1])
        let (bootstrap, bootstrapPort) = try PeerProcess.startPeer(["--dir", bootstrapFolder, "--no-console"])
        defer { _ = bootstrap.stop() }
        let (far, _) = try PeerProcess.startPeer([
            "--dir", farFolder, "--no-console", "--bootstrap", "127.0.0.1:\(bootstrapPort)", "--gossip-interval", "0.2",
        ])
        defer { _ = far.stop() }
        #expect(waitUntil(timeout: 5) { wireRequest(port: bootstrapPort, line: "").lines.count == 1 })
        let (console, _) = try PeerProcess.startPeer([
            "--dir", try temporary.folder("a"), "--bootstrap", "127.0.0.1:\(bootstrapPort)",
        ])
        defer { _ = console.stop() }
        console.send("far")
        #expect(console.waitForStdout(containing: "far-away.txt", timeout: 10) != nil, "\(console.stdoutLines)")
    }
}

/// Quitting while a download runs says, on its own line, how many downloads
/// stopped and what was kept to resume (the contract's console section).
@Suite struct QuitTests {
    @Test func aSignalDuringAPipeDownloadSaysWhatStoppedAndWhatWasKept() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        // The header and 50,000 bytes at once, then a byte every half second.
        let source = try drippingSource("big.bin", randomBytes(200_000, seed: 77), atOnce: 50_000, drip: 0.5)
        defer { source.stop() }
        let mine = try temporary.folder("mine")
        let (console, _) = try PeerProcess.startPeer(["--dir", mine, "--bootstrap", "127.0.0.1:\(source.port)"])
        defer { _ = console.stop() }
        console.send("big")
        #expect(console.waitForStdout(containing: "1) big.bin", timeout: 10) != nil)
        console.send("1")
        #expect(waitUntil(timeout: 10) { TemporaryFolder.names(in: mine).contains { $0.hasSuffix(".part") } })
        usleep(300_000)
        #expect(console.stop(signal: SIGTERM) == 0)
        let said = console.stdoutLines.last ?? ""
        #expect(
            said.hasPrefix("quitting: 1 download stopped; kept to resume (pick the same file again): big.bin ("),
            "\(console.stdoutLines)"
        )
        #expect(TemporaryFolder.names(in: mine).contains { $0.hasPrefix(".pplus2-keep-") })
    }
}

/// The contract's stall rule with its real figures, on a pipe (whose console
/// cannot read /cancel while it downloads): a source that sends a byte every
/// 4 s is ended as stalled within 60 s, and what arrived is kept.
@Suite struct PipeStallTests {
    @Test func aPipeDownloadFromADripEndsAsStalledAndKeepsItsBytes() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let source = try drippingSource("drip.bin", randomBytes(100_000, seed: 78), atOnce: 100, drip: 4)
        defer { source.stop() }
        let mine = try temporary.folder("mine")
        let (console, _) = try PeerProcess.startPeer(["--dir", mine, "--bootstrap", "127.0.0.1:\(source.port)"])
        defer { _ = console.stop() }
        console.send("drip")
        #expect(console.waitForStdout(containing: "1) drip.bin", timeout: 10) != nil)
        let started = MonotonicClock.now
        console.send("1")
        let line = console.waitForStdout(containing: "stalled", timeout: 60)
        #expect(line?.contains("less than 1.0 KiB in 30.0 s") == true, "\(console.stdoutLines)")
        #expect(MonotonicClock.now - started < 60)
        #expect(TemporaryFolder.names(in: mine).contains { $0.hasPrefix(".pplus2-keep-") })
    }
}

/// Bash completion of `--dir` keeps a folder name with spaces whole.
@Suite struct CompletionTests {
    @Test func aFolderWithSpacesCompletesAsOneWord() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/bash") else {
            try Test.cancel("skipped: no /bin/bash")
        }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        _ = try temporary.folder("my share")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../share/completions/pplus2.bash"
        ).standardized.path
        let output = try runCommand(
            "/bin/bash",
            [
                "-c",
                "source '\(script)'; cd '\(temporary.path)'; COMP_WORDS=(pplus2 --dir my); COMP_CWORD=2; _pplus2; "
                    + "printf '[%s]\\n' \"${COMPREPLY[@]}\"",
            ]
        )
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "[my share]")
    }
}

/// A fake extended peer offering `name` (`content`): its listing, then on
/// download the header and the first `atOnce` bytes, the rest dripped a byte
/// every `drip` seconds.
func drippingSource(_ name: String, _ content: [UInt8], atOnce: Int, drip: Double) throws -> ScriptedPeer {
    let digest = SHA256.hash(content)
    let listing = "\(Extension.header)\n\(content.count) \(digest) \(name)\n"
    let header = Array((Extension.getHeader(size: Int64(content.count), sha256: digest) + "\n").utf8)
    return try ScriptedPeer(
        query: .init(Array(listing.utf8)),
        download: .init(header + content, drip: drip, dripFrom: header.count + atOnce)
    )
}
