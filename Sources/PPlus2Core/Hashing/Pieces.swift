/// A file's SHA-256 cut at its pieces: what lets a downloading peer check
/// bytes as they land and name the source of a bad one, where the whole-file
/// SHA-256 alone tells, after the last byte, only that some byte somewhere
/// was wrong.
///
/// SHA-256 runs through a message one 64-byte block at a time, carrying a
/// 32-byte chaining value from block to block; the digest is the value after
/// the padded last block. A piece list is that value at the end of every
/// piece: `chain[k]` after the bytes of pieces 0 through k, and the last one,
/// after the padding, is the file's SHA-256 itself. So piece k is checked
/// alone, by going on from `chain[k - 1]` (the standard start for piece 0)
/// through its bytes to `chain[k]`; and a list whose last value is not the
/// content's SHA-256 is refused before its first byte is used (`isBound`).
/// When every piece went from its start to its end, the pieces together went
/// from the start to the SHA-256: the whole file's SHA-256 is computed, each
/// byte hashed once.
/// A list that lies between its ends is found out by the first piece that
/// cannot go from a false value to a true one.
///
/// A file of `size` bytes is cut into pieces of `pieceSize` (the last one
/// shorter). The piece size follows from the size alone, so two peers always
/// cut one content the same way: 1 MiB, doubled while that makes more than
/// 256 pieces, at most 16 MiB (a 1 GiB file: 256 pieces of 4 MiB; 8 KB of
/// values per GiB kept by a serving peer). A file of one piece has the whole
/// file's SHA-256 as its only value.
public struct PieceList: Equatable, Sendable {
    public static let smallestPiece: Int64 = 1 << 20
    public static let largestPiece: Int64 = 16 << 20
    /// Pieces a file has at most before its pieces grow (up to `largestPiece`).
    public static let targetCount: Int64 = 256

    public let size: Int64
    /// The SHA-256 chaining value at the end of each piece; the last is the file's SHA-256.
    public let chain: [SHA256Digest]

    /// nil when `chain` is not one value a piece of a file of `size` bytes.
    public init?(size: Int64, chain: [SHA256Digest]) {
        guard size >= 0, chain.count == Self.count(forSize: size) else { return nil }
        self.size = size
        self.chain = chain
    }

    public var pieceSize: Int64 { Self.pieceSize(forSize: size) }
    public var count: Int { chain.count }
    /// The file's SHA-256, as the list ends.
    public var sha256: SHA256Digest { chain[chain.count - 1] }

    /// Whether the list ends at `sha256`: the only list of that content worth checking bytes against.
    public func isBound(to sha256: SHA256Digest) -> Bool { self.sha256 == sha256 }

    /// The piece size of a file of `size` bytes.
    public static func pieceSize(forSize size: Int64) -> Int64 {
        var piece = smallestPiece
        while piece < largestPiece && size > piece * targetCount { piece *= 2 }
        return piece
    }

    /// How many pieces a file of `size` bytes has: at least one (an empty file
    /// has one empty piece).
    public static func count(forSize size: Int64) -> Int {
        let piece = pieceSize(forSize: size)
        return Int(max(1, (size + piece - 1) / piece))
    }

    /// The bytes of piece `index`.
    public func range(ofPiece index: Int) -> Range<Int64> {
        let start = Int64(index) * pieceSize
        return start..<min(start + pieceSize, size)
    }

    /// The index of the piece holding byte `offset` (the last one for `size`).
    public func piece(at offset: Int64) -> Int {
        min(Int(offset / pieceSize), count - 1)
    }

    /// The start of the piece holding `offset`: where a cut at `offset` falls back to.
    public func pieceStart(atOrBefore offset: Int64) -> Int64 {
        Int64(piece(at: min(offset, size))) * pieceSize
    }

    /// A hasher at the start of piece `index`, to be fed its bytes and given to `ends(_:piece:)`.
    public func hasher(forPiece index: Int, blockFunction: @escaping SHA256.BlockFunction) -> SHA256 {
        guard index > 0 else { return SHA256(blockFunction: blockFunction) }
        return SHA256(
            continuingFrom: chain[index - 1],
            after: range(ofPiece: index).lowerBound,
            blockFunction: blockFunction
        )
    }

    /// Whether `hasher`, fed the bytes of piece `index` from its start, ends
    /// where the list says that piece ends. The hasher is spent.
    public func ends(_ hasher: inout SHA256, piece index: Int) -> Bool {
        if index == count - 1 { return hasher.finish() == chain[index] }
        return hasher.chainingValue == chain[index]
    }
}

/// Hashes a file's bytes, fed in order, into its SHA-256 and its piece list
/// in one pass: the chaining value is noted at the end of each piece, so the
/// serving peer's hashing reads and hashes each byte once for both.
public struct PieceHasher: Sendable {
    private var hasher: SHA256
    private let pieceSize: Int64
    private var inPiece: Int64 = 0
    private var chain: [SHA256Digest] = []

    /// For a file of `size` bytes (its piece size follows from it).
    public init(size: Int64, blockFunction: @escaping SHA256.BlockFunction = SHA256.portable) {
        pieceSize = PieceList.pieceSize(forSize: size)
        hasher = SHA256(blockFunction: blockFunction)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes[...]
        while !rest.isEmpty {
            if inPiece == pieceSize {
                // A piece ended and more bytes follow: its value is noted (the last one is the digest).
                chain.append(hasher.chainingValue!)
                inPiece = 0
            }
            let taken = Int(min(Int64(rest.count), pieceSize - inPiece))
            hasher.update(UnsafeRawBufferPointer(rebasing: rest.prefix(taken)))
            inPiece += Int64(taken)
            rest = rest.dropFirst(taken)
        }
    }

    /// The whole file's digest and its piece list; nil if the bytes fed were
    /// not `size` (the file changed while it was read).
    public mutating func finish(size: Int64) -> (sha256: SHA256Digest, pieces: PieceList)? {
        let digest = hasher.finish()
        return PieceList(size: size, chain: chain + [digest]).map { (digest, $0) }
    }
}

/// The piece lists the sources of one download announced, grouped: which list
/// a download checks bytes against when its sources disagree.
///
/// Each group is one list and the sources (by index) that announced it; the
/// group most sources announced comes first, a tie going to the group of the
/// earliest source (the copy the user picked). A source that gave no list is
/// in no group. Only lists that end at the content's SHA-256 take part
/// (`PieceList.isBound`); among those, the pieces settle what a vote cannot:
/// a list false between its ends has a piece that no bytes match, and each
/// announcer that sends it is caught; the download then goes on with the
/// next group's.
public struct PieceVote: Equatable, Sendable {
    public struct Group: Equatable, Sendable {
        public let list: PieceList
        public var sources: [Int]
    }

    public let groups: [Group]

    public init(_ lists: [PieceList?]) {
        var groups: [Group] = []
        for (source, list) in lists.enumerated() {
            guard let list else { continue }
            if let index = groups.firstIndex(where: { $0.list == list }) {
                groups[index].sources.append(source)
            } else {
                groups.append(Group(list: list, sources: [source]))
            }
        }
        // Stable: among groups of as many sources, the earliest first.
        self.groups = groups.enumerated()
            .sorted { ($0.element.sources.count, -$0.offset) > ($1.element.sources.count, -$1.offset) }
            .map(\.element)
    }

    /// The list bytes are checked against, if any source gave one.
    public var chosen: Group? { groups.first }
}
