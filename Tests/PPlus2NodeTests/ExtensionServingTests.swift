import Foundation
import PPlus2Core
import PPlus2Node
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// The serving side of the extension as the wire sees it, and the resets that
/// keep any downloader, plain or extended, from keeping a cut or mixed file.
@Suite struct ExtensionServingTests {
    /// A peer sharing `files`, once it has hashed all of them.
    private func hashedPeer(_ temporary: TemporaryFolder, files: [String: [UInt8]]) throws -> (Peer, String) {
        let folder = try makeFolder(temporary, "a", files: files)
        let peer = try startPeer(in: folder)
        let hashed = waitUntil(timeout: 10) {
            let lines = wireRequest(port: peer.port + 1, line: "\u{1}find ").lines
            let matches = lines.dropFirst().map { $0.split(separator: " ", maxSplits: 2) }
            return lines.count == files.count + 1 && matches.allSatisfy { $0.count == 3 && $0[1] != "-" }
        }
        #expect(hashed)
        return (peer, folder)
    }

    @Test func findAnswersSizesAndHashes() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(5000, seed: 1)
        let (peer, _) = try hashedPeer(temporary, files: ["data.bin": content, "empty.txt": [], "other.md": [7]])
        defer { shutDown(peer) }
        let answer = wireRequest(port: peer.port + 1, line: "\u{1}find DATA")
        #expect(answer.closedCleanly)
        #expect(answer.lines == [Extension.header, "5000 \(SHA256.hash(content)) data.bin"])
        // Plain queries are as they were; unknown verbs and malformed finds get nothing.
        #expect(wireRequest(port: peer.port + 1, line: "data").lines == ["data.bin"])
        for request in ["\u{1}findDATA", "\u{1}lookup data", "\u{1}", "\u{1}FIND data"] {
            let silent = wireRequest(port: peer.port + 1, line: request)
            #expect(silent.bytes.isEmpty && silent.closedCleanly, "\(request.debugDescription)")
        }
    }

    /// `\u{1}chain SHA256 NAME`: the header, then where SHA-256 stands at the
    /// end of each piece (the last: the file's SHA-256), as computed in the
    /// hashing pass; kept in the hash cache across restarts. The older
    /// `\u{1}pieces` (each piece's own SHA-256) gets nothing.
    @Test func chainAnswersTheChainingValueAtEachPiecesEnd() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(2_500_000, seed: 5)
        let digest = SHA256.hash(content)
        var running = SHA256()
        var expected: [SHA256Digest] = []
        for index in 0..<2 {
            running.update(Array(content[(index << 20)..<((index + 1) << 20)]))
            expected.append(try #require(running.chainingValue))
        }
        expected.append(digest)
        var (peer, folder) = try hashedPeer(temporary, files: ["data.bin": content, "small.txt": [1, 2]])
        func pieces(_ text: String) -> WireAnswer { wireRequest(port: peer.port + 2, line: "\u{1}chain " + text) }
        let header = Extension.getHeader(size: 2_500_000, sha256: digest)
        let whole = [header, "1048576 3"] + expected.map(\.description)
        #expect(pieces("\(digest) data.bin").lines == whole)
        #expect(
            pieces("\(SHA256.hash([1, 2])) small.txt").lines.dropFirst() == ["1048576 1", "\(SHA256.hash([1, 2]))"]
        )
        #expect(pieces("\(SHA256.hash([9])) data.bin").lines == [header], "another version: the header alone")
        for silent in ["\(digest) nothere", "- data.bin", "\(digest)", "\(digest) ../data.bin"] {
            #expect(pieces(silent).bytes.isEmpty, "\(silent)")
        }
        #expect(wireRequest(port: peer.port + 2, line: "\u{1}pieces \(digest) data.bin").bytes.isEmpty)
        // The cache holds them; restarted, the peer answers them at once.
        shutDown(peer)
        peer = try startPeer(in: folder)
        defer { shutDown(peer) }
        #expect(
            readFile(folder + "/" + HiddenFile.hashCache.name).map { String(decoding: $0, as: UTF8.self) }?
                .contains("+\(expected[1])") == true
        )
        #expect(pieces("\(digest) data.bin").lines == whole)
    }

    @Test func getServesTheHeaderAndTheRange() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(10_000, seed: 2)
        let digest = SHA256.hash(content)
        let (peer, _) = try hashedPeer(temporary, files: ["data.bin": content])
        defer { shutDown(peer) }
        let header = Array((Extension.getHeader(size: 10_000, sha256: digest) + "\n").utf8)
        func get(_ text: String) -> WireAnswer { wireRequest(port: peer.port + 2, line: "\u{1}get " + text) }

        #expect(get("0 - - data.bin").bytes == header + content)
        #expect(get("9000 - \(digest) data.bin").bytes == header + content[9000...])
        #expect(get("100 50 - data.bin").bytes == header + content[100..<150])
        #expect(get("9990 500 - data.bin").bytes == header + content[9990...])
        #expect(get("10000 - - data.bin").bytes == header)  // at the end: nothing more
        #expect(get("10001 - - data.bin").bytes == header)  // past the end: the header alone
        #expect(get("0 - \(SHA256.hash([1])) data.bin").bytes == header)  // another version: the header alone
        for malformed in [
            "01 - - data.bin", "-1 - - data.bin", "+1 - - data.bin", "0 - - ", "0 -", "0 x - data.bin",
            "0 - ABC data.bin", "0 - - nothere", "0 - - ../data.bin", "99999999999999999999 - - data.bin",
        ] {
            let answer = get(malformed)
            #expect(answer.bytes.isEmpty && answer.closedCleanly, "\(malformed)")
        }
        // A plain peer's request still gets the raw bytes.
        #expect(wireRequest(port: peer.port + 2, line: "data.bin").bytes == content)
    }

    /// A file appended to, or rewritten in place, while a slow reader takes it.
    @Test(arguments: ["append", "rewrite"])
    func aFileThatChangesWhileServedEndsInAReset(_ change: String) throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let size = 32 << 20
        let folder = try makeFolder(temporary, "a", files: ["changing.bin": randomBytes(size, seed: 6)])
        let peer = try startPeer(in: folder)
        defer { shutDown(peer) }
        let socket = try TCPSocket.connect(address: 0x7F00_0001, port: peer.port + 2, timeout: 2)
        try socket.send(Array("changing.bin\n".utf8), idleTimeout: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        _ = try socket.receive(into: &buffer, timeout: 5)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/changing.bin"))
        if change == "append" {
            try handle.seekToEnd()
        } else {
            usleep(20_000)  // a later modification time, whatever the clock's tick
        }
        try handle.write(contentsOf: Data(randomBytes(1 << 20, seed: 7)))
        try handle.close()
        let (_, endedCleanly) = readToEnd(socket)
        #expect(!endedCleanly)
    }

    @Test func stoppingThePeerResetsEveryTransferInProgress() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folder = try makeFolder(temporary, "a", files: ["big.bin": randomBytes(32 << 20, seed: 8)])
        let peer = try startPeer(in: folder)
        var sockets: [TCPSocket] = []
        for request in ["big.bin\n", "\u{1}get 0 - - big.bin\n"] {
            let socket = try TCPSocket.connect(address: 0x7F00_0001, port: peer.port + 2, timeout: 2)
            try socket.send(Array(request.utf8), idleTimeout: 2)
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = try socket.receive(into: &buffer, timeout: 5)
            sockets.append(socket)
        }
        let started = MonotonicClock.now
        peer.stop()
        peer.join()
        #expect(MonotonicClock.now - started < 5)  // the workers were freed, not waited out
        for socket in sockets { #expect(!readToEnd(socket).endedCleanly) }
    }

    @Test func hashesSurviveARestartAndACorruptCacheIsIgnored() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(1000, seed: 9)
        let (first, folder) = try hashedPeer(temporary, files: ["kept.bin": content])
        first.stop()
        first.join()
        let cache = String(decoding: readFile(folder + "/" + HiddenFile.hashCache.name) ?? [], as: UTF8.self)
        #expect(cache.contains("\(SHA256.hash(content)) kept.bin"))

        try writeFile(folder + "/" + HiddenFile.hashCache.name, Array("pplus2-hashes 1\ngarbage line\n".utf8))
        let lines = Locked<[String]>([])
        var configuration = Configuration()
        configuration.port = 0
        configuration.bind = .loopback
        configuration.directory = folder
        configuration.gossipEnabled = false
        let second = try Peer(configuration, log: Log(sink: { line in lines.withLock { $0.append(line) } }))
        defer { shutDown(second) }
        #expect(lines.withLock { $0 }.contains { $0.contains("ignoring the hash cache") })
        // Hashed again from the file itself.
        #expect(
            waitUntil(timeout: 10) {
                wireRequest(port: second.port + 1, line: "\u{1}find kept").lines.last
                    == "1000 \(SHA256.hash(content)) kept.bin"
            }
        )
    }
}
