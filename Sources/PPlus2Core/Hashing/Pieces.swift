/// The SHA-256 of each piece of a file: what lets a downloading peer check
/// bytes as they land and name the source of a bad one, where the whole-file
/// SHA-256 only tells, after the last byte, that some byte somewhere was wrong.
///
/// A file of `size` bytes is cut into pieces of `pieceSize` (the last one
/// shorter). The piece size follows from the size alone, so two peers always
/// cut one content the same way: 1 MiB, doubled while that makes more than
/// 256 pieces, at most 16 MiB (a 1 GiB file: 256 pieces of 4 MiB; 8 KB of
/// hashes per GiB kept by a serving peer). A file of one piece has the whole
/// file's SHA-256 as its only piece hash.
public struct PieceList: Equatable, Sendable {
    public static let smallestPiece: Int64 = 1 << 20
    public static let largestPiece: Int64 = 16 << 20
    /// Pieces a file has at most before its pieces grow (up to `largestPiece`).
    public static let targetCount: Int64 = 256

    public let size: Int64
    public let hashes: [SHA256Digest]

    /// nil when `hashes` is not one digest a piece of a file of `size` bytes.
    public init?(size: Int64, hashes: [SHA256Digest]) {
        guard size >= 0, hashes.count == Self.count(forSize: size) else { return nil }
        self.size = size
        self.hashes = hashes
    }

    public var pieceSize: Int64 { Self.pieceSize(forSize: size) }
    public var count: Int { hashes.count }

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
}

/// Hashes a file's bytes, fed in order, both whole and piece by piece, in one
/// pass: the serving peer's hashing reads each file once for both.
public struct PieceHasher: Sendable {
    private var whole: SHA256
    private var piece: SHA256
    private let blockFunction: SHA256.BlockFunction
    private let pieceSize: Int64
    private var inPiece: Int64 = 0
    private var pieces: [SHA256Digest] = []

    /// For a file of `size` bytes (its piece size follows from it).
    public init(size: Int64, blockFunction: @escaping SHA256.BlockFunction = SHA256.portable) {
        self.blockFunction = blockFunction
        pieceSize = PieceList.pieceSize(forSize: size)
        whole = SHA256(blockFunction: blockFunction)
        piece = SHA256(blockFunction: blockFunction)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        whole.update(bytes)
        var rest = bytes[...]
        while !rest.isEmpty {
            let taken = Int(min(Int64(rest.count), pieceSize - inPiece))
            piece.update(UnsafeRawBufferPointer(rebasing: rest.prefix(taken)))
            inPiece += Int64(taken)
            rest = rest.dropFirst(taken)
            if inPiece == pieceSize { endPiece() }
        }
    }

    /// The whole file's digest and its piece list; nil if the bytes fed were
    /// not `size` (the file changed while it was read).
    public mutating func finish(size: Int64) -> (sha256: SHA256Digest, pieces: PieceList)? {
        if inPiece > 0 || pieces.isEmpty { endPiece() }
        return PieceList(size: size, hashes: pieces).map { (whole.finish(), $0) }
    }

    private mutating func endPiece() {
        pieces.append(piece.finish())
        piece = SHA256(blockFunction: blockFunction)
        inPiece = 0
    }
}

/// The piece lists the sources of one download announced, grouped: which list
/// a download checks bytes against when its sources disagree.
///
/// Each group is one list and the sources (by index) that announced it; the
/// group most sources announced comes first, a tie going to the group of the
/// earliest source (the copy the user picked). A source that gave no list is
/// in no group. The whole-file SHA-256 settles what a vote cannot: if the file
/// checked against the first group's list does not have the content's SHA-256,
/// that list was false and everyone who announced it lied.
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
