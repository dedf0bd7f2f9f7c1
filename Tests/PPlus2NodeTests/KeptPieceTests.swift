import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// A kept partial is checked piece by piece before a resume uses it, and
/// neither a lying piece list nor a lying source ever costs its bytes. Pieces
/// of 1 MiB (the file is 6 MiB); the kept partials are written as a run that
/// broke off would have left them.
@Suite struct KeptPieceTests {
    static let content = MultiSourceTests.content
    static let digest = MultiSourceTests.digest
    static let mebibyte = 1 << 20

    /// Writes a kept partial of the file's first `bytes` bytes, `changed` at the given offsets.
    func keep(_ bytes: Int, changing offsets: [Int] = [], in folder: String) throws -> [UInt8] {
        var kept = Array(Self.content.prefix(bytes))
        for offset in offsets { kept[offset] ^= 0xFF }
        try writeFile(folder + "/" + HiddenFile.keptPartial(Self.digest).name, kept)
        return kept
    }

    func keptBytes(in folder: String) -> [UInt8]? {
        readFile(folder + "/" + HiddenFile.keptPartial(Self.digest).name)
    }

    @Test func wrongBytesInTheMiddleOfAKeptPartialCostOnlyTheirPiece() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        _ = try keep(4 * Self.mebibyte, changing: [Self.mebibyte + 12_345], in: temporary.path)
        let source = try RangeSource(content: Self.content, behaviour: .honest, announcesPieces: true)
        defer { source.stop() }
        let folder = try SharedFolder(path: temporary.path)
        let (outcome, events) = MultiSourceTests().download(from: [source], in: folder)
        #expect(outcome.success?.savedFile == SavedFile(name: "big.bin", bytes: Int64(Self.content.count)))
        #expect(readFile(temporary.file("big.bin")).map { $0 == Self.content } == true, "saved byte-identical")
        #expect(events.contains(.resumed(from: Int64(4 * Self.mebibyte))), "\(events)")
        #expect(events.contains(.repairing(pieces: 1)), "\(events)")
        // The bad piece (the second), then the rest after the kept bytes.
        #expect(source.sentBytes == 3 * Self.mebibyte, "sent \(source.sentBytes)")
        #expect(source.requests.contains(Int64(Self.mebibyte)..<Int64(2 * Self.mebibyte)), "\(source.requests)")
    }

    /// A liar that announces the right SHA-256 and a list that goes through
    /// the bytes it sends, alone: every piece but the last matches its list,
    /// so only the last piece (which must reach the SHA-256) finds it out. It
    /// calls every kept piece bad; the kept bytes it wrote over are put back.
    @Test func aLyingPieceListNeverCostsTheKeptBytes() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let kept = try keep(4 * Self.mebibyte, in: temporary.path)
        let folder = try SharedFolder(path: temporary.path)
        let liars = Liars()
        let other = randomBytes(Self.content.count, seed: 78)
        let liar = try RangeSource(content: Self.content, behaviour: .sendsInstead(other), announcesPieces: true)
        defer { liar.stop() }
        let (failed, events) = MultiSourceTests().download(from: [liar], in: folder, liars: liars)
        guard case .failure(.badPiece(_, let piece, let count)) = failed, piece == count - 1 else {
            Issue.record("expected the last piece to fail: \(failed)")
            return
        }
        #expect(events.contains(.repairing(pieces: 4)), "\(events)")
        #expect(keptBytes(in: temporary.path).map { $0 == kept } == true, "the kept partial is as it was")
        #expect(liars.contains(PeerIdentity(address: .loopback, port: liar.port)!))

        let honest = try RangeSource(content: Self.content, behaviour: .honest, announcesPieces: true)
        defer { honest.stop() }
        let (saved, resumed) = MultiSourceTests().download(from: [honest], in: folder, liars: liars)
        #expect(saved.success?.savedFile == SavedFile(name: "big.bin", bytes: Int64(Self.content.count)))
        #expect(resumed.contains(.resumed(from: Int64(4 * Self.mebibyte))), "\(resumed)")
        #expect(honest.sentBytes == 2 * Self.mebibyte, "only the rest is fetched")
        #expect(readFile(temporary.file("big.bin")).map { $0 == Self.content } == true, "saved byte-identical")
    }

    /// Wrong bytes, a header naming another SHA-256, and no header at all,
    /// each from a source alone: the kept partial stays, byte for byte.
    @Test(arguments: ["wrong bytes", "another hash", "garbage header"])
    func aLyingSourceNeverRemovesAKeptPartial(_ lie: String) throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let kept = try keep(3 * Self.mebibyte, in: temporary.path)
        let folder = try SharedFolder(path: temporary.path)
        let outcome: Result<Downloader.Outcome, DownloadError>
        switch lie {
        case "wrong bytes":
            let liar = try RangeSource(content: Self.content, behaviour: .corrupts, announcesPieces: true)
            defer { liar.stop() }
            outcome = MultiSourceTests().download(from: [liar], in: folder).0
        default:
            let answer = lie == "another hash" ? anotherHashHeader() : Array("HTTP/1.0 200 OK\n\n".utf8)
            let liar = try ScriptedPeer(download: ScriptedPeer.Script(answer))
            defer { liar.stop() }
            outcome = MultiSourceTests().download(fromPorts: [liar.port], in: folder).0
        }
        guard case .failure = outcome else {
            Issue.record("saved from a source that lied: \(outcome)")
            return
        }
        #expect(keptBytes(in: temporary.path).map { $0 == kept } == true, "the kept partial is as it was")
    }

    func anotherHashHeader() -> [UInt8] {
        let header = Extension.getHeader(size: Int64(Self.content.count), sha256: SHA256.hash([1, 2, 3]))
        return Array((header + "\n").utf8) + Array(Self.content.prefix(1000))
    }

    /// A source with no piece list sends junk, then ends early: what it left
    /// is judged at the next resume by an honest source's list, and the
    /// honest source is never blamed for it.
    @Test func junkLeftByASourceThatEndedEarlyIsFoundAtTheResumeNotBlamedOnTheNext() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folder = try SharedFolder(path: temporary.path)
        let junk = try RangeSource(content: Self.content, behaviour: .corruptsThenEndsEarly)
        defer { junk.stop() }
        let (first, _) = MultiSourceTests().download(from: [junk], in: folder)
        guard case .failure(.cutShort) = first else {
            Issue.record("expected a file cut short: \(first)")
            return
        }
        let left = try #require(keptBytes(in: temporary.path))
        #expect(left.count == 3 * Self.mebibyte && left != Array(Self.content.prefix(left.count)), "junk kept")
        let honest = try RangeSource(content: Self.content, behaviour: .honest, announcesPieces: true)
        defer { honest.stop() }
        let liars = Liars()
        let (second, events) = MultiSourceTests().download(from: [honest], in: folder, liars: liars)
        #expect(second.success?.savedFile == SavedFile(name: "big.bin", bytes: Int64(Self.content.count)), "\(events)")
        #expect(readFile(temporary.file("big.bin")).map { $0 == Self.content } == true, "saved byte-identical")
        #expect(events.contains(.repairing(pieces: 1)), "\(events)")
        #expect(honest.sentBytes == 4 * Self.mebibyte, "the bad piece and the rest")
        #expect(liars.all.isEmpty, "nobody blamed: \(liars.all)")
    }

    /// A cancel that comes as the last bytes land wins over the completion:
    /// nothing takes the name, and the whole file is kept to resume in no time.
    @Test func aCancelAtTheLastByteWinsOverTheName() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let source = try RangeSource(content: Self.content, behaviour: .honest, announcesPieces: true)
        defer { source.stop() }
        let cancellation = DownloadCancellation()
        let downloader = Downloader(
            client: PeerClient(timeout: 4 * sanitizerSlowdown),
            folder: try SharedFolder(path: temporary.path),
            maxSize: 1 << 30,
            cancellation: cancellation
        )
        let match = MultiSourceTests().copies(of: [source.port])[0]
        let outcome = Result { () throws(DownloadError) in
            try downloader.download(copies: [match]) { event in
                if case .progress(let bytes, let size) = event, bytes == size { cancellation.cancel() }
            }
        }
        guard case .failure(.cancelled) = outcome else {
            Issue.record("expected the cancel to win: \(outcome)")
            return
        }
        #expect(!TemporaryFolder.names(in: temporary.path).contains("big.bin"))
        #expect(keptBytes(in: temporary.path)?.count == Self.content.count, "the whole file kept to resume")
    }

    /// A file saved verified is offered with its SHA-256 and pieces at once,
    /// and the folder's hasher does not read it again.
    @Test func aVerifiedDownloadIsOfferedWithItsHashWithoutBeingReadAgain() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let source = try RangeSource(content: Self.content, behaviour: .honest, announcesPieces: true)
        defer { source.stop() }
        let peer = try startPeer(in: temporary.path)
        defer { shutDown(peer) }
        let match = MultiSourceTests().copies(of: [source.port])[0]
        #expect(try peer.download(match).savedFile == SavedFile(name: "big.bin", bytes: Int64(Self.content.count)))
        #expect(waitUntil(timeout: 5) { peer.folder.offeredStatus(of: "big.bin") != nil })
        let status = try #require(peer.folder.offeredStatus(of: "big.bin"))
        #expect(peer.hashes.sha256(of: status) == Self.digest)
        #expect(peer.hashes.pieces(of: status)?.count == 6)
        #expect(
            wireRequest(port: peer.port + 1, line: "\u{1}find big").lines.last
                == "\(Self.content.count) \(Self.digest) big.bin"
        )
        usleep(1_500_000)  // the hasher's passes run within a second of the index's change
        #expect(peer.hashes.filesHashed == 0, "not read again")
    }
}
