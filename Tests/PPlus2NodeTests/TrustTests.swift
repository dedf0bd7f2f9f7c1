import Foundation
import PPlus2Core
import PPlus2Node
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// Downloads from peers that speak the extension, played by fake servers that
/// lie in one way each: every defence of the downloading side is shown to hold.
@Suite struct TrustTests {
    static let content = randomBytes(200_000, seed: 21)
    static let digest = SHA256.hash(content)

    /// A fake extended server: its query answer lists `big.bin` with `size` and
    /// the content's hash; its download answer is the header, then `body`.
    static func fakeServer(
        size: Int64 = Int64(content.count),
        body: [UInt8],
        then ending: ScriptedPeer.Ending = .close
    )
        throws -> ScriptedPeer
    {
        let listing = "\(Extension.header)\n\(size) \(digest) big.bin\n"
        let header = Array((Extension.getHeader(size: size, sha256: digest) + "\n").utf8)
        return try ScriptedPeer(query: .init(Array(listing.utf8)), download: .init(header + body, then: ending))
    }

    static func identity(_ peer: ScriptedPeer) -> PeerIdentity {
        PeerIdentity(address: .loopback, port: peer.port)!
    }

    static func keptName() -> String { HiddenFile.keptPartial(digest).name }

    @Test func aBodyCutWithACleanCloseIsKeptAndResumedFromAnotherPeer() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let cut = 70_000
        let first = try Self.fakeServer(body: Array(Self.content[..<cut]))
        defer { first.stop() }
        let folder = try makeFolder(temporary, "mine")
        let peer = try startPeer(in: folder, bootstraps: [Self.identity(first)], gossipInterval: 60)
        defer { shutDown(peer) }

        let match = try #require(peer.search("big").matches.first)
        #expect(match.size == Int64(Self.content.count) && match.sha256 == Self.digest)
        #expect(
            throws: DownloadError.cutShort(Self.identity(first), bytes: Int64(cut), size: Int64(Self.content.count))
        ) {
            try peer.download(match)
        }
        #expect(TemporaryFolder.names(in: folder).filter { !$0.hasSuffix(".name") } == [Self.keptName()])
        #expect(readFile(folder + "/" + Self.keptName()) == Array(Self.content[..<cut]))

        // Another peer with the same content: asked from the kept length on, only the rest moves.
        let second = try Self.fakeServer(body: Array(Self.content[cut...]))
        defer { second.stop() }
        var events: [Downloader.Event] = []
        let outcome = try peer.download(
            Search.Match(name: "big.bin", peer: Self.identity(second), size: match.size, sha256: Self.digest)
        ) { events.append($0) }
        #expect(
            outcome == .saved(savedName: "big.bin", bytes: Int64(Self.content.count), check: .verified(Self.digest))
        )
        #expect(events.contains(.resumed(from: Int64(cut))))
        #expect(
            second.requests[2] == [
                Extension.piecesRequest(sha256: Self.digest, name: "big.bin"),
                Extension.getRequest(
                    offset: Int64(cut),
                    length: Int64(Self.content.count - cut),
                    sha256: Self.digest,
                    name: "big.bin"
                ),
            ]
        )
        #expect(readFile(folder + "/big.bin") == Self.content)
        #expect(TemporaryFolder.names(in: folder) == ["big.bin"])
    }

    static let cut = 70_000

    /// A peer whose download of big.bin broke off at `cut` bytes (a clean
    /// close before the announced size): the first 70,000 bytes are kept.
    static func peerWithAKeptPartial(in temporary: TemporaryFolder) throws -> (Peer, String) {
        let first = try fakeServer(body: Array(content[..<cut]))
        defer { first.stop() }
        let folder = try makeFolder(temporary, "mine")
        let peer = try startPeer(in: folder, gossipInterval: 60)
        let match = Search.Match(name: "big.bin", peer: identity(first), size: 200_000, sha256: digest)
        #expect(throws: DownloadError.self) { try peer.download(match) }
        return (peer, folder)
    }

    /// A kept partial survives sources that disagree with it: a header naming
    /// another version, a garbage header, a source that answers nothing.
    @Test func aLyingHeaderNeverRemovesAKeptPartial() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (peer, folder) = try Self.peerWithAKeptPartial(in: temporary)
        defer { shutDown(peer) }
        #expect(readFile(folder + "/" + Self.keptName()) == Array(Self.content[..<Self.cut]))

        let otherHash = Array((Extension.getHeader(size: 200_000, sha256: SHA256.hash([1])) + "\n").utf8)
        let liars = [
            try ScriptedPeer(download: .init(otherHash)),
            try ScriptedPeer(download: .init(Array("garbage\n".utf8) + Self.content)),
            try ScriptedPeer(download: .init([])),
        ]
        defer { for liar in liars { liar.stop() } }
        for liar in liars {
            let lying = Search.Match(name: "big.bin", peer: Self.identity(liar), size: 200_000, sha256: Self.digest)
            _ = try? peer.download(lying)
            #expect(readFile(folder + "/" + Self.keptName()) == Array(Self.content[..<Self.cut]), "after \(liar.port)")
        }
    }

    /// A kept partial is listed by name (start summary, /downloads), and its
    /// label goes once the file is saved whole.
    @Test func aKeptDownloadIsListedByNameUntilItIsSaved() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (peer, folder) = try Self.peerWithAKeptPartial(in: temporary)
        defer { shutDown(peer) }
        #expect(peer.keptDownloads() == [KeptDownload(name: "big.bin", size: 200_000, kept: Int64(Self.cut))])
        #expect(StartupText.keptLines(peer.keptDownloads()).last == "  1) big.bin: 68.4 KiB of 195.3 KiB")

        let second = try Self.fakeServer(body: Array(Self.content[Self.cut...]))
        defer { second.stop() }
        let rest = Search.Match(name: "big.bin", peer: Self.identity(second), size: 200_000, sha256: Self.digest)
        #expect(try peer.download(rest).savedFile == SavedFile(name: "big.bin", bytes: 200_000))
        #expect(peer.keptDownloads().isEmpty)
        #expect(TemporaryFolder.names(in: folder) == ["big.bin"])
    }

    /// `/resume` lists the kept downloads numbered; `/resume 1` finds a
    /// known peer offering that content and goes on from the kept bytes.
    @Test func resumeByNumberFromTheConsole() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let server = try startPeer(in: makeFolder(temporary, "server", files: ["big.bin": Self.content]))
        defer { shutDown(server) }
        let mine = try makeFolder(temporary, "mine")
        try writeFile(mine + "/" + Self.keptName(), Array(Self.content[..<Self.cut]))
        try writeFile(mine + "/" + HiddenFile.keptLabel(Self.digest).name, Array("200000 big.bin\n".utf8))
        let peer = try startPeer(in: mine, bootstraps: [server.identity])
        defer { shutDown(peer) }
        #expect(waitUntil(timeout: 10) { server.search("big", only: [server.identity]).matches.first?.sha256 != nil })
        let (console, output) = pipeConsole(peer)
        _ = console.handle("/resume")
        #expect(output.withLock { $0 }.contains("  1) big.bin: 68.4 KiB of 195.3 KiB"), "\(output.withLock { $0 })")
        _ = console.handle("/resume 2")
        #expect(output.withLock { $0 }.last == "no kept download numbered 2: /resume lists them")
        _ = console.handle("/resume 1")
        #expect(output.withLock { $0 }.contains { $0.hasPrefix("saved big.bin") && $0.contains("verified") })
        #expect(readFile(mine + "/big.bin").map { $0 == Self.content } == true)
        #expect(peer.keptDownloads().isEmpty)
    }

    @Test func theRightSizeWithWrongBytesSavesNothing() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        var wrong = Self.content
        wrong[123_456] ^= 0x01
        let liar = try Self.fakeServer(body: wrong)
        defer { liar.stop() }
        let folder = try makeFolder(temporary, "mine")
        let peer = try startPeer(in: folder, bootstraps: [Self.identity(liar)], gossipInterval: 60)
        defer { shutDown(peer) }
        let match = try #require(peer.search("big").matches.first)
        #expect {
            try peer.download(match)
        } throws: { error in
            guard case .hashMismatch(_, let expected, let actual) = error as? DownloadError else { return false }
            return expected == Self.digest && actual == SHA256.hash(wrong)
        }
        #expect(TemporaryFolder.names(in: folder).isEmpty)  // wrong bytes are not kept
    }

    @Test func moreBytesThanAnnouncedSavesNothing() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let liar = try Self.fakeServer(body: Self.content + [0x42])
        defer { liar.stop() }
        let folder = try makeFolder(temporary, "mine")
        let peer = try startPeer(in: folder, bootstraps: [Self.identity(liar)], gossipInterval: 60)
        defer { shutDown(peer) }
        let match = try #require(peer.search("big").matches.first)
        #expect(throws: DownloadError.tooLong(Self.identity(liar), size: Int64(Self.content.count))) {
            try peer.download(match)
        }
        #expect(TemporaryFolder.names(in: folder).isEmpty)
    }

    @Test func aSizePastTheLimitIsRefusedBeforeTheFirstByte() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let huge = try Self.fakeServer(size: 5 << 30, body: [])
        defer { huge.stop() }
        let folder = try makeFolder(temporary, "mine")
        let peer = try startPeer(in: folder, bootstraps: [Self.identity(huge)], gossipInterval: 60) {
            $0.maxDownloadSize = 1 << 30
        }
        defer { shutDown(peer) }
        let match = try #require(peer.search("big").matches.first)
        #expect(throws: DownloadError.tooLarge(1 << 30)) { try peer.download(match) }
        #expect(huge.requests[2].isEmpty)  // not even asked
        #expect(TemporaryFolder.names(in: folder).isEmpty)
    }

    @Test func anotherVersionAtThePeerSavesNothing() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let other = SHA256.hash([1, 2, 3])
        let listing = "\(Extension.header)\n\(Self.content.count) \(Self.digest) big.bin\n"
        let changed = try ScriptedPeer(
            query: .init(Array(listing.utf8)),
            download: .init(Array((Extension.getHeader(size: 3, sha256: other) + "\n").utf8))
        )
        defer { changed.stop() }
        let folder = try makeFolder(temporary, "mine")
        let peer = try startPeer(in: folder, bootstraps: [Self.identity(changed)], gossipInterval: 60)
        defer { shutDown(peer) }
        let match = try #require(peer.search("big").matches.first)
        #expect(throws: DownloadError.changed(Self.identity(changed), size: 3, sha256: other)) {
            try peer.download(match)
        }
        #expect(TemporaryFolder.names(in: folder).isEmpty)
    }
}
