import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// An answer ends when the callee closes: the close follows the last byte at
/// once, whatever else the workers are doing. Here both download workers are
/// held by readers that read nothing, more callers wait in the queue behind a
/// small file's request, and one slot frees up: the small file is served and
/// its connection closes with it (a worker pool that kept the job it handed
/// out, with its connection, closed it only once the queue drained).
@Suite struct AnswerEndTests {
    @Test func aSmallFileClosesRightAfterItsLastByteWhileCallersQueue() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let small = randomBytes(1024, seed: 7)
        let folder = try makeFolder(
            temporary,
            "a",
            files: ["big.bin": randomBytes(8 << 20, seed: 8), "small.txt": small]
        )
        let a = try startPeer(in: folder) {
            $0.downloadCapacity = .init(inFlight: 2, perAddress: 8)
            $0.minimumSendRate.graceSeconds = 30  // the held readers keep their places
        }
        defer { shutDown(a) }
        let b = try startPeer(in: makeFolder(temporary, "b"))
        defer { shutDown(b) }
        let match = try #require(b.search("small", only: [a.identity]).matches.first)

        func slowReader() throws -> TCPSocket {
            let socket = try TCPSocket.connect(
                address: 0x7F00_0001,
                port: a.port + 2,
                timeout: 2,
                receiveBuffer: 4096,
                maxSegment: 536
            )
            try socket.send(Array("big.bin\n".utf8), idleTimeout: 2)
            return socket
        }
        var held = [try slowReader(), try slowReader()]
        usleep(200_000)  // both workers are sending big.bin

        // Plain P+2: the small file's request waits in the queue, two more behind it.
        let plain = try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 2, timeout: 2, from: 0x7F00_0002)
        try plain.send(Array("small.txt\n".utf8), idleTimeout: 2)
        usleep(100_000)
        held += [try slowReader(), try slowReader()]
        usleep(100_000)
        held.removeFirst().reset()  // a worker frees up: it takes the small file, then the next reader

        var buffer = [UInt8](repeating: 0, count: 4096)
        var received = 0
        var lastByteAt = 0.0
        while received < small.count {
            let count = try plain.receive(into: &buffer, timeout: 3)
            #expect(count > 0)
            guard count > 0 else { break }
            received += count
            lastByteAt = MonotonicClock.now
        }
        let end = try? plain.receive(into: &buffer, timeout: 3)
        let closedAfter = MonotonicClock.now - lastByteAt
        #expect(received == small.count && end == 0)
        #expect(closedAfter < 0.1, "the answer closed \(closedAfter) s after its last byte")

        // A pplus2 peer (the extension, the console's downloader) in the same
        // place: workers held, its request queued with two readers behind it.
        held.removeFirst().reset()  // the queued reader takes that worker: the queue is empty
        usleep(100_000)
        let outcome = Locked<SavedFile??>(nil)
        let downloader = ThreadHandle()
        try downloader.start(name: "test-download") {
            let saved = try? b.download(match).savedFile
            outcome.withLock { $0 = .some(saved) }
        }
        usleep(100_000)
        held += [try slowReader(), try slowReader()]
        usleep(100_000)
        let freedAt = MonotonicClock.now
        held.removeFirst().reset()
        downloader.join()
        #expect(outcome.withLock { $0 } == .some(SavedFile(name: "small.txt", bytes: 1024)))
        #expect(MonotonicClock.now - freedAt < 1)
        for socket in held { socket.reset() }
    }
}

/// `--max-download-size` bounds the bytes of kept partials too, whatever the
/// order in which the configuration is filled in.
@Suite struct KeptPartialBoundTests {
    @Test func theMaxDownloadSizeBoundsKeptPartials() throws {
        guard case .run(let options) = try Options.parse(["--max-download-size", "100M"]) else {
            Issue.record("expected a run")
            return
        }
        let configuration = try Configuration(options)
        #expect(configuration.keptPartials.bytes == 100 << 20)
        #expect(configuration.keptPartials.count == 8)
        var changed = Configuration()
        changed.maxDownloadSize = 1 << 30
        #expect(changed.keptPartials.bytes == 1 << 30)
    }
}

/// The same bound in use: broken-off downloads under `--max-download-size 1M`
/// keep at most 1 MiB of partials in all (the newest first).
@Suite struct KeptPartialBytesTests {
    @Test func brokenOffDownloadsKeepAtMostTheMaxDownloadSize() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        guard case .run(var options) = try Options.parse(["--max-download-size", "1M"]) else {
            Issue.record("expected a run")
            return
        }
        let folder = try makeFolder(temporary, "mine")
        options.directory = folder
        var configuration = try Configuration(options)
        configuration.port = 0
        configuration.bind = .loopback
        configuration.gossipEnabled = false
        let peer = try Peer(configuration, log: .silent)
        defer { shutDown(peer) }
        for seed in 0..<3 {
            let content = randomBytes(1_000_000, seed: UInt64(100 + seed))
            let digest = SHA256.hash(content)
            let header = Array((Extension.getHeader(size: 1_000_000, sha256: digest) + "\n").utf8)
            // 600,000 of the 1,000,000 bytes, then a clean close: cut short, kept.
            let source = try ScriptedPeer(download: .init(header + content[..<600_000]))
            defer { source.stop() }
            let match = Search.Match(
                name: "file-\(seed).bin",
                peer: PeerIdentity(address: .loopback, port: source.port)!,
                size: 1_000_000,
                sha256: digest
            )
            #expect(throws: DownloadError.self) { try peer.download(match) }
        }
        let kept = TemporaryFolder.names(in: folder).filter { $0.hasPrefix(".pplus2-keep-") && $0.hasSuffix(".part") }
        let bytes = kept.map { Int64(readFile(folder + "/" + $0)?.count ?? 0) }.reduce(0, +)
        #expect(!kept.isEmpty && bytes <= 1 << 20, "\(kept.count) kept, \(bytes) bytes")
    }
}
