/// Splits an answer read from another peer into lines, under caps.
///
/// Answers are untrusted. A line longer than `maxLineBytes` is skipped whole
/// (counted in `skippedLines`); lines past the first `maxLines` are counted in
/// `cutLines` but not kept; and after `maxBytes` bytes in all the splitter says
/// stop (`consume` returns false, `reachedByteLimit`): what was taken is kept.
/// A final line without `\n` counts as a line.
public struct AnswerLines: Sendable {
    public let maxLineBytes: Int
    public let maxLines: Int
    public let maxBytes: Int

    /// Lines handed to `emit`.
    public private(set) var lineCount = 0
    public private(set) var byteCount = 0
    /// Lines over `maxLineBytes`, dropped.
    public private(set) var skippedLines = 0
    /// Lines past `maxLines`, dropped.
    public private(set) var cutLines = 0
    /// True once `maxBytes` were read: the rest of the answer is not read.
    public private(set) var reachedByteLimit = false

    /// True if the answer held more than the caps let through.
    public var wasCut: Bool { cutLines > 0 || reachedByteLimit }

    private var framer: LineFramer

    public init(maxLineBytes: Int, maxLines: Int, maxBytes: Int) {
        self.maxLineBytes = maxLineBytes
        self.maxLines = maxLines
        self.maxBytes = maxBytes
        framer = LineFramer(maxLineBytes: maxLineBytes, overlong: .drop)
    }

    /// Consumes a chunk, calling `emit` with each complete line (terminator and a
    /// trailing `\r` stripped). Returns false once the caller should stop reading.
    @discardableResult
    public mutating func consume(_ chunk: some Collection<UInt8>, emit: (ArraySlice<UInt8>) -> Void) -> Bool {
        for byte in chunk {
            guard byteCount < maxBytes else {
                reachedByteLimit = true
                return false
            }
            byteCount += 1
            if let piece = framer.take(byte) { take(piece, emit: emit) }
        }
        return true
    }

    /// The answer ended: a last line without `\n` still counts, unless the
    /// byte limit cut it.
    public mutating func finish(emit: (ArraySlice<UInt8>) -> Void) {
        guard !reachedByteLimit, let piece = framer.finish() else { return }
        take(piece, emit: emit)
    }

    private mutating func take(_ piece: LineFramer.Piece, emit: (ArraySlice<UInt8>) -> Void) {
        switch piece {
        case .overlong:
            skippedLines += 1
        case .line where lineCount >= maxLines:
            cutLines += 1
        case .line(let line):
            lineCount += 1
            emit(line)
        }
    }
}

/// What a peer-list answer held once parsed: the valid identities, in order,
/// without duplicates, and how many lines were skipped as invalid.
public struct PeerListAnswer: Sendable, Equatable {
    /// At most this many lines are read from one answer.
    public static let maxLines = 2000
    /// At most this many bytes are read from one answer.
    public static let maxBytes = 64 * 1024

    public var peers: [PeerIdentity] = []
    public var skippedLines = 0
    public var wasCut = false

    public init() {}

    /// A splitter with the peer-list caps.
    public static func makeSplitter() -> AnswerLines {
        AnswerLines(maxLineBytes: PeerIdentity.maxTextBytes, maxLines: maxLines, maxBytes: maxBytes)
    }

    /// Parses a whole answer held in memory.
    public init(parsing bytes: some Collection<UInt8>) {
        let parsed = AnswerLines.parseAll(bytes, with: Self.makeSplitter(), PeerIdentity.init(utf8:))
        peers = parsed.values
        skippedLines = parsed.invalidLines + parsed.splitter.skippedLines
        wasCut = parsed.splitter.wasCut
    }
}

/// What a query answer held once parsed: the names that are valid shared-file
/// names (anything else could not be downloaded safely and is dropped), with
/// their sizes and hashes when the peer speaks the extension.
public struct QueryAnswer: Sendable, Equatable {
    /// At most this many names are taken from one peer.
    public static let maxLines = 10_000
    /// At most this many bytes are read from one peer's answer.
    public static let maxBytes = 4 * 1024 * 1024

    /// One file a peer offers.
    public struct Entry: Equatable, Sendable {
        public let name: String
        /// Known from an extended answer; nil from a plain peer.
        public let size: Int64?
        /// Known from an extended answer once the peer hashed the file.
        public let sha256: SHA256Digest?

        public init(name: String, size: Int64? = nil, sha256: SHA256Digest? = nil) {
            self.name = name
            self.size = size
            self.sha256 = sha256
        }
    }

    public var entries: [Entry] = []
    public var skippedLines = 0
    /// Names past the cap, dropped (a lower bound if `reachedByteLimit`).
    public var cutLines = 0
    /// The answer was longer than `maxBytes`; the rest was not read.
    public var reachedByteLimit = false
    /// The answer came in the extension's form (sizes and hashes).
    public var isExtended = false

    public var names: [String] { entries.map(\.name) }

    public init() {}

    public static func makeSplitter() -> AnswerLines {
        // An extended line adds up to 20 + 1 + 64 + 1 bytes before the name,
        // which may be a relative path (pplus2 peers' folders).
        AnswerLines(maxLineBytes: SharedPath.maxBytes + 86, maxLines: maxLines, maxBytes: maxBytes)
    }

    /// Parses a whole plain answer held in memory: one name a line. (The
    /// streaming reader that searches use, fed at once: one parser, which the
    /// fuzzer and these tests exercise.)
    public init(parsing bytes: some Collection<UInt8>) {
        self = Self.read(Array(bytes), extended: false) ?? QueryAnswer()
    }

    /// Parses an answer to `\u{1}find`: nil when its first line is not the
    /// extension's header (a plain peer, which answered with nothing or with
    /// names), so the caller asks again in plain P+2.
    public init?(parsingExtended bytes: [UInt8]) {
        guard let answer = Self.read(bytes, extended: true) else { return nil }
        self = answer
    }

    private static func read(_ bytes: [UInt8], extended: Bool) -> QueryAnswer? {
        var reader = QueryAnswerReader(extended: extended)
        var room = Int.max
        if reader.consume(bytes[...], room: &room) == .reading { _ = reader.finish(room: &room) }
        return reader.status == .notExtended ? nil : reader.answer
    }
}

extension AnswerLines {
    /// Splits a whole answer and parses each line with `parse`: the values of
    /// the distinct lines in the order they came, how many lines did not parse,
    /// and the splitter with its counts of skipped and cut lines.
    ///
    /// Lines are told apart by their bytes, not by the parsed values: two names
    /// that Unicode calls equivalent (`café` composed and decomposed) are two
    /// files, and `String`'s equality would merge them.
    static func parseAll<Value>(
        _ bytes: some Collection<UInt8>,
        with splitter: AnswerLines,
        _ parse: (ArraySlice<UInt8>) -> Value?
    ) -> (values: [Value], invalidLines: Int, splitter: AnswerLines) {
        var splitter = splitter
        var values: [Value] = []
        var seen = Set<[UInt8]>()
        var invalidLines = 0
        let take: (ArraySlice<UInt8>) -> Void = { line in
            if let value = parse(line) {
                if seen.insert(Array(line)).inserted { values.append(value) }
            } else {
                invalidLines += 1
            }
        }
        splitter.consume(bytes, emit: take)
        splitter.finish(emit: take)
        return (values, invalidLines, splitter)
    }
}
