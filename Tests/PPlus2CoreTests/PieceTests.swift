import PPlus2Core
import Testing

/// Piece lists: how a file is cut, the one-pass hasher's chaining values
/// against SHA-256 of the whole, each piece checked alone, the `\u{1}chain`
/// lines read only as written, and the hash cache keeping them.
@Suite struct PieceTests {
    /// A deterministic filler (the core tests do not link the test support).
    static func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    }

    static let mebibyte: Int64 = 1 << 20
    /// (size, piece size, count)
    static let cuts: [(Int64, Int64, Int)] = [
        (0, mebibyte, 1),
        (1, mebibyte, 1),
        (mebibyte, mebibyte, 1),
        (mebibyte + 1, mebibyte, 2),
        (256 * mebibyte, mebibyte, 256),
        (256 * mebibyte + 1, 2 * mebibyte, 129),
        (1024 * mebibyte, 4 * mebibyte, 256),
        (64 * 1024 * mebibyte, 16 * mebibyte, 4096),
    ]

    @Test func aFileIsCutByItsSizeAlone() {
        for (size, pieceSize, count) in Self.cuts {
            #expect(PieceList.pieceSize(forSize: size) == pieceSize, "\(size)")
            #expect(PieceList.count(forSize: size) == count, "\(size)")
        }
    }

    @Test func rangesCoverTheFileOnceAndFindTheirPiece() throws {
        let size = Int64(5_000_000)
        let digest = SHA256.hash([])
        let list = try #require(PieceList(size: size, chain: Array(repeating: digest, count: 5)))
        #expect(PieceList(size: size, chain: Array(repeating: digest, count: 4)) == nil)
        var end: Int64 = 0
        for index in 0..<list.count {
            let range = list.range(ofPiece: index)
            #expect(range.lowerBound == end)
            #expect(list.piece(at: range.lowerBound) == index && list.piece(at: range.upperBound - 1) == index)
            end = range.upperBound
        }
        #expect(end == size)
        #expect(list.pieceStart(atOrBefore: 3 << 20) == 3 << 20)
        #expect(list.pieceStart(atOrBefore: (3 << 20) - 1) == 2 << 20)
        #expect(list.pieceStart(atOrBefore: size) == 4 << 20)
    }

    /// Fed in chunks of any size, the hasher gives the SHA-256 of the whole,
    /// and each value of its list is where SHA-256 stands after that piece:
    /// going on from it through the rest of the file gives the whole file's
    /// SHA-256, and each piece goes from its start value to its end value.
    @Test(arguments: [0, 1, (1 << 20) - 1, 1 << 20, 2_500_000, 3 << 20])
    func theHasherChainsTheWholeFilesSHA256(size: Int) throws {
        let data = Self.bytes(size)
        for chunk in [4096, 333_333, 1 << 20] {
            var hasher = PieceHasher(size: Int64(size))
            var start = 0
            while start < size {
                let end = min(start + chunk, size)
                data[start..<end].withUnsafeBytes { hasher.update($0) }
                start = end
            }
            let finished = hasher.finish(size: Int64(size))
            let result = try #require(finished)
            let whole = SHA256.hash(data)
            #expect(result.sha256 == whole && result.pieces.sha256 == whole && result.pieces.isBound(to: whole))
            for index in 0..<result.pieces.count {
                let range = result.pieces.range(ofPiece: index)
                if index < result.pieces.count - 1 {
                    var rest = SHA256(
                        continuingFrom: result.pieces.chain[index],
                        after: range.upperBound,
                        blockFunction: SHA256.portable
                    )
                    rest.update(Array(data[Int(range.upperBound)...]))
                    #expect(rest.finish() == whole, "piece \(index) of \(size)")
                }
                var piece = result.pieces.hasher(forPiece: index, blockFunction: SHA256.portable)
                piece.update(Array(data[Int(range.lowerBound)..<Int(range.upperBound)]))
                #expect(result.pieces.ends(&piece, piece: index), "piece \(index) of \(size)")
            }
        }
    }

    /// A byte changed in one piece fails that piece alone; a list whose last
    /// value is not the content's SHA-256 is not bound to it.
    @Test func aChangedByteFailsItsPieceAlone() throws {
        let size = 3 << 20
        let data = Self.bytes(size)
        var hasher = PieceHasher(size: Int64(size))
        data.withUnsafeBytes { hasher.update($0) }
        let finished = hasher.finish(size: Int64(size))
        let pieces = try #require(finished).pieces
        var changed = data
        changed[(1 << 20) + 5] ^= 1
        let results = (0..<pieces.count).map { index in
            let range = pieces.range(ofPiece: index)
            var piece = pieces.hasher(forPiece: index, blockFunction: SHA256.portable)
            piece.update(Array(changed[Int(range.lowerBound)..<Int(range.upperBound)]))
            return pieces.ends(&piece, piece: index)
        }
        #expect(results == [true, false, true])
        #expect(!pieces.isBound(to: SHA256.hash(changed)))
    }

    @Test func theHasherRefusesBytesOfAnotherSize() {
        var hasher = PieceHasher(size: 3 << 20)
        Self.bytes(1 << 20).withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finish(size: 3 << 20) == nil)
    }

    @Test func pieceLinesAreReadOnlyAsWrittenForTheSizeTheyName() throws {
        let size = Int64(2_500_000)
        var hasher = PieceHasher(size: size)
        Self.bytes(Int(size)).withUnsafeBytes { hasher.update($0) }
        let finished = hasher.finish(size: size)
        let pieces = try #require(finished).pieces
        let body = Array(Extension.pieceLines(pieces).map { $0 + "\n" }.joined().utf8)
        #expect(body.count <= Extension.maxPieceLinesBytes(forSize: size))
        #expect(Extension.parsePieceLines(body, size: size) == pieces)
        #expect(Extension.parsePieceLines(body, size: 5_000_000) == nil, "another size: another count")
        #expect(Extension.parsePieceLines(body.dropLast(), size: size) == nil, "a cut last line")
        #expect(Extension.parsePieceLines(body + Array("-\n".utf8), size: size) == nil, "a line more")
        var upper = body
        upper[body.count - 2] = UInt8(ascii: "A")
        #expect(Extension.parsePieceLines(upper, size: size) == nil, "hex is lowercase")
        let request = Extension.piecesRequest(sha256: pieces.sha256, name: "a b.bin")
        #expect(Extension.parse(request) == .pieces(sha256: pieces.sha256, name: "a b.bin"))
        #expect(Extension.parse("\u{1}chain - a.bin") == nil, "a piece list is asked of one version")
        let older = "\u{1}pieces \(pieces.sha256) a.bin"
        #expect(Extension.parse(older) == nil, "the lists of pieces' own SHA-256 are not served: another meaning")
    }

    @Test func theHashCacheKeepsPiecesAndReadsOlderVersionsHashesOnly() throws {
        let digest = SHA256.hash(Array("x".utf8))
        let entries = [
            HashCacheFormat.Entry(
                name: "big.bin",
                size: 3 << 20,
                modified: 7,
                inode: 9,
                sha256: digest,
                pieces: [
                    digest, digest, digest,
                ]
            ),
            HashCacheFormat.Entry(name: "small.txt", size: 1, modified: 7, inode: 10, sha256: digest),
        ]
        #expect(try HashCacheFormat.decode(HashCacheFormat.encode(entries)) == entries)
        let first = Array("pplus2-hashes 1\n1 7 10 \(digest) small.txt\n".utf8)
        #expect(try HashCacheFormat.decode(first) == [entries[1]])
        // Version 2's piece lines are each piece's own SHA-256: dropped, the hashes kept.
        let second = "pplus2-hashes 2\n\(3 << 20) 7 9 \(digest) big.bin\n" + String(repeating: "+\(digest)\n", count: 3)
        var withoutPieces = entries[0]
        withoutPieces.pieces = []
        #expect(try HashCacheFormat.decode(Array(second.utf8)) == [withoutPieces])
        let wrongCount = Array("pplus2-hashes 3\n\(3 << 20) 7 9 \(digest) big.bin\n+\(digest)\n".utf8)
        #expect(throws: HashCacheFormat.Corruption.self) { try HashCacheFormat.decode(wrongCount) }
        let orphan = Array("pplus2-hashes 3\n+\(digest)\n".utf8)
        #expect(throws: HashCacheFormat.Corruption.self) { try HashCacheFormat.decode(orphan) }
    }

    /// Lists voted on: the list most sources gave first, a tie to the earliest
    /// source's, sources without a list in no group.
    @Test func theListMostSourcesGiveIsChosenAndATieGoesToTheEarliest() throws {
        let size = 3 * Self.mebibyte
        func list(_ seed: UInt8) throws -> PieceList {
            try #require(PieceList(size: size, chain: (0..<3).map { SHA256.hash([seed, UInt8($0)]) }))
        }
        let (a, b) = (try list(1), try list(2))
        let vote = PieceVote([b, a, nil, a])
        #expect(vote.chosen?.list == a && vote.chosen?.sources == [1, 3])
        #expect(vote.groups.map(\.sources) == [[1, 3], [0]])
        #expect(PieceVote([b, a]).chosen?.sources == [0], "a tie goes to the earliest source")
        #expect(PieceVote([nil, a, b]).chosen?.sources == [1])
        #expect(PieceVote([nil, nil]).chosen == nil)
    }
}
