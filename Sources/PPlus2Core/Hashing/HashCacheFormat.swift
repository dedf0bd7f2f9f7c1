/// The text of the hash cache a peer keeps in its folder
/// (`HiddenFile.hashCache`): a header line, then one line a file version,
/// `SIZE MODIFIED INODE SHA256 NAME` (modification time in nanoseconds since
/// the epoch; the name is the rest of the line), followed, for a file of more
/// than one piece, by one `+CHAINVALUE` line a piece (`PieceList`). A version
/// is the whole key: an entry is only ever used for a file whose size, time
/// and inode all match. A cache of an older format is still read for its
/// hashes: version 1 had no piece lines, and version 2's held each piece's
/// own SHA-256 (not chaining values), dropped as read; their files of several
/// pieces are hashed again once for their pieces.
public enum HashCacheFormat {
    public static let header = "pplus2-hashes 3"
    static let olderHeaders = ["pplus2-hashes 1", "pplus2-hashes 2"]

    /// One cached hash.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let size: Int64
        public let modified: Int64
        public let inode: UInt64
        public let sha256: SHA256Digest
        /// The piece list's chaining values, for a file of more than one piece; else empty.
        public var pieces: [SHA256Digest]

        public init(
            name: String,
            size: Int64,
            modified: Int64,
            inode: UInt64,
            sha256: SHA256Digest,
            pieces: [SHA256Digest] = []
        ) {
            self.name = name
            self.size = size
            self.modified = modified
            self.inode = inode
            self.sha256 = sha256
            self.pieces = pieces
        }
    }

    public static func encode(_ entries: [Entry]) -> [UInt8] {
        var bytes = Array((header + "\n").utf8)
        for entry in entries { append(entry, to: &bytes) }
        return bytes
    }

    /// Appends the line of `entry` (a cache of many files is written a block at a time).
    public static func append(_ entry: Entry, to bytes: inout [UInt8]) {
        bytes += "\(entry.size) \(entry.modified) \(entry.inode) \(entry.sha256) ".utf8
        bytes += entry.name.utf8
        bytes.append(UInt8(ascii: "\n"))
        for piece in entry.pieces { bytes += "+\(piece)\n".utf8 }
    }

    /// Why a cache file was not used.
    public enum Corruption: Error, Equatable, Sendable, CustomStringConvertible {
        case noHeader
        case badLine(Int)

        public var description: String {
            switch self {
            case .noHeader: "it does not start with \"\(header)\""
            case .badLine(let number): "line \(number) is not SIZE MODIFIED INODE SHA256 NAME or +CHAINVALUE"
            }
        }
    }

    /// The entries of a cache file; any malformed line makes the whole file corrupt.
    public static func decode(_ bytes: [UInt8]) throws(Corruption) -> [Entry] {
        var decoder = Decoder()
        var entries: [Entry] = []
        try decoder.take(bytes[...]) { entries.append($0) }
        try decoder.finish { entries.append($0) }
        return entries
    }

    /// Decodes a cache file a block at a time, line by line: reading a cache of
    /// a million files never holds the file whole.
    public struct Decoder: Sendable {
        private var framer = LineFramer(maxLineBytes: 512, overlong: .drop)
        private var lineNumber = 0
        /// Whether the piece lines are chaining values (version 3), else dropped.
        private var keepsPieces = true
        /// The last entry read, given to `body` once its piece lines are read.
        private var pending: Entry?

        public init() {}

        /// Takes the next bytes of the file; `body` gets each entry completed.
        public mutating func take(_ bytes: ArraySlice<UInt8>, _ body: (Entry) -> Void) throws(Corruption) {
            for byte in bytes {
                if let piece = framer.take(byte) { try handle(piece, body) }
            }
        }

        /// The file ended: its last line, and a file without even a header.
        public mutating func finish(_ body: (Entry) -> Void) throws(Corruption) {
            if let piece = framer.finish() { try handle(piece, body) }
            if lineNumber == 0 { throw .noHeader }
            try flush(body)
        }

        private mutating func handle(_ piece: LineFramer.Piece, _ body: (Entry) -> Void) throws(Corruption) {
            lineNumber += 1
            guard case .line(let line) = piece else {
                throw lineNumber == 1 ? .noHeader : .badLine(lineNumber)
            }
            if lineNumber == 1 {
                if line.elementsEqual(header.utf8) { return }
                guard olderHeaders.contains(where: { line.elementsEqual($0.utf8) }) else { throw .noHeader }
                keepsPieces = false
                return
            }
            if line.isEmpty { return }
            if line.first == UInt8(ascii: "+") {
                guard pending != nil, let piece = SHA256Digest(hex: String(decoding: line.dropFirst(), as: UTF8.self))
                else { throw .badLine(lineNumber) }
                if keepsPieces { pending?.pieces.append(piece) }
                return
            }
            guard let entry = parse(line) else { throw .badLine(lineNumber) }
            try flush(body)
            pending = entry
        }

        /// Gives the pending entry to `body`; its piece lines must be one a
        /// piece of its size, or none.
        private mutating func flush(_ body: (Entry) -> Void) throws(Corruption) {
            guard let entry = pending else { return }
            pending = nil
            guard entry.pieces.isEmpty || PieceList(size: entry.size, chain: entry.pieces) != nil else {
                throw .badLine(lineNumber)
            }
            body(entry)
        }
    }

    private static func parse(_ line: ArraySlice<UInt8>) -> Entry? {
        let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5,
            let size = Extension.number(fields[0]),
            let modified = Int64(String(decoding: fields[1], as: UTF8.self)),
            let inode = UInt64(String(decoding: fields[2], as: UTF8.self)),
            let sha256 = SHA256Digest(hex: String(decoding: fields[3], as: UTF8.self)),
            let name = SharedPath.validated(utf8: fields[4])
        else { return nil }
        return Entry(name: name, size: size, modified: modified, inode: inode, sha256: sha256)
    }
}
