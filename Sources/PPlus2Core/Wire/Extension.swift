/// The extension pplus2 peers speak among themselves: sizes, SHA-256 and
/// ranges, behind requests that start with U+0001 (which no offered name and
/// no sensible query holds, so a plain P+2 peer answers them with nothing).
///
/// ```
/// p+1:  \u{1}find QUERY                        ->  \u{1}P+2x/1, then SIZE SHA256 NAME lines
/// p+2:  \u{1}get OFFSET LENGTH SHA256 NAME     ->  \u{1}P+2x/1 SIZE SHA256, then the bytes
/// p+2:  \u{1}chain SHA256 NAME                 ->  \u{1}P+2x/1 SIZE SHA256, then PIECESIZE COUNT
///                                                 and COUNT lines: the SHA-256 chaining value at
///                                                 the end of each piece (`PieceList`)
/// ```
/// Numbers are decimal without sign or leading zero (`0` alone), at most 19
/// digits; `LENGTH` may be `-` (to the end); `SHA256` is 64 lowercase hex
/// digits or `-` (not known, or any version). One space between fields;
/// `NAME` is the rest of the line.
public enum Extension {
    /// The first byte of every extended request and answer.
    public static let marker = UInt8(1)
    /// The first line of every extended answer (a `get` header adds fields).
    public static let header = "\u{1}P+2x/1"

    /// An extended request, parsed.
    public enum Request: Equatable, Sendable {
        case find(query: String)
        /// Bytes `offset` up to `offset + length` (nil: to the end) of `name`,
        /// if its hash is `sha256` (nil: any version).
        case get(offset: Int64, length: Int64?, sha256: SHA256Digest?, name: String)
        /// The piece list of `name` (`PieceList`), if its hash is `sha256`.
        case pieces(sha256: SHA256Digest, name: String)
    }

    /// Whether `line` is meant for the extension (starts with U+0001).
    public static func isExtended(_ line: String) -> Bool {
        line.utf8.first == marker
    }

    /// The request in `line`; nil for an unknown verb or a malformed request
    /// (a missing field, a sign, a leading zero): those get no answer.
    public static func parse(_ line: String) -> Request? {
        guard isExtended(line) else { return nil }
        let body = line.utf8.dropFirst()
        if let query = body.dropPrefix("find ") { return .find(query: String(decoding: query, as: UTF8.self)) }
        if let rest = body.dropPrefix("chain ") {
            let fields = rest.split(separator: UInt8(ascii: " "), maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2, let sha256 = hash(fields[0])?.value, !fields[1].isEmpty else { return nil }
            return .pieces(sha256: sha256, name: String(decoding: fields[1], as: UTF8.self))
        }
        guard let rest = body.dropPrefix("get ") else { return nil }
        let fields = rest.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let offset = number(fields[0]), !fields[3].isEmpty else { return nil }
        let length: Int64?
        if fields[1].elementsEqual("-".utf8) {
            length = nil
        } else {
            guard let value = number(fields[1]) else { return nil }
            length = value
        }
        guard let sha256 = hash(fields[2]) else { return nil }
        return .get(
            offset: offset,
            length: length,
            sha256: sha256.value,
            name: String(decoding: fields[3], as: UTF8.self)
        )
    }

    // MARK: Writing

    public static func findRequest(_ query: String) -> String {
        "\u{1}find \(query)"
    }

    public static func getRequest(offset: Int64, length: Int64?, sha256: SHA256Digest?, name: String) -> String {
        "\u{1}get \(offset) \(length.map(String.init) ?? "-") \(text(sha256)) \(name)"
    }

    public static func piecesRequest(sha256: SHA256Digest, name: String) -> String {
        "\u{1}chain \(sha256) \(name)"
    }

    /// The lines of a `chain` answer after its header: `PIECESIZE COUNT`,
    /// then the chaining value at the end of each piece, a line each.
    public static func pieceLines(_ pieces: PieceList) -> [String] {
        ["\(pieces.pieceSize) \(pieces.count)"] + pieces.chain.map(\.description)
    }

    /// The most bytes a `chain` answer's body can hold for a file of `size`
    /// bytes (a reader stops there).
    public static func maxPieceLinesBytes(forSize size: Int64) -> Int {
        42 + 65 * PieceList.count(forSize: size)
    }

    /// The piece list in the body of a `chain` answer (what follows the
    /// header) for a file of `size` bytes; nil unless it is exactly the lines
    /// `pieceLines` writes, with the piece size and count that size implies.
    public static func parsePieceLines(_ body: some Collection<UInt8>, size: Int64) -> PieceList? {
        let lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard let first = lines.first, lines.last?.isEmpty == true else { return nil }
        let fields = first.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 2, let pieceSize = number(fields[0]), let count = number(fields[1]),
            pieceSize == PieceList.pieceSize(forSize: size), count == PieceList.count(forSize: size),
            lines.count == Int(count) + 2
        else { return nil }
        var chain: [SHA256Digest] = []
        chain.reserveCapacity(Int(count))
        for line in lines.dropFirst().dropLast() {
            guard let value = hash(line)?.value else { return nil }
            chain.append(value)
        }
        return PieceList(size: size, chain: chain)
    }

    /// One line of a `find` answer.
    public static func matchLine(size: Int64, sha256: SHA256Digest?, name: String) -> String {
        "\(size) \(text(sha256)) \(name)"
    }

    /// The first line of a `get` answer: the file's current size and hash.
    public static func getHeader(size: Int64, sha256: SHA256Digest?) -> String {
        "\(header) \(size) \(text(sha256))"
    }

    // MARK: Reading answers

    /// A `SIZE SHA256 NAME` line; nil if malformed or the name breaks the rules.
    public static func parseMatchLine(_ line: some Collection<UInt8>) -> QueryAnswer.Entry? {
        let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, let size = number(fields[0]), let sha256 = hash(fields[1]),
            let name = SharedPath.validated(utf8: fields[2])
        else { return nil }
        return QueryAnswer.Entry(name: name, size: size, sha256: sha256.value)
    }

    /// The size and hash of a `get` header line (without its `\n`); nil if it
    /// is not one.
    public static func parseGetHeader(_ line: some Collection<UInt8>) -> (size: Int64, sha256: SHA256Digest?)? {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].elementsEqual(header.utf8), let size = number(fields[1]),
            let sha256 = hash(fields[2])
        else { return nil }
        return (size, sha256.value)
    }

    // MARK: Fields

    /// A decimal number without sign or leading zero, at most 19 digits, within Int64.
    static func number(_ digits: some Collection<UInt8>) -> Int64? {
        guard (1...19).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        if digits.count > 1 && digits.first == UInt8(ascii: "0") { return nil }
        return Int64(String(decoding: digits, as: UTF8.self))
    }

    /// A hash field as written: `-` or a digest.
    struct HashField {
        /// nil for `-`.
        let value: SHA256Digest?
    }

    /// A hash field: `-` or 64 lowercase hex digits; nil if neither.
    static func hash(_ field: some Collection<UInt8>) -> HashField? {
        if field.elementsEqual("-".utf8) { return HashField(value: nil) }
        return SHA256Digest(hex: String(decoding: field, as: UTF8.self)).map { HashField(value: $0) }
    }

    static func text(_ sha256: SHA256Digest?) -> String {
        sha256?.description ?? "-"
    }
}

extension Collection<UInt8> {
    /// The rest after `prefix`, or nil if it does not start with it.
    fileprivate func dropPrefix(_ prefix: String) -> SubSequence? {
        guard starts(with: prefix.utf8) else { return nil }
        return dropFirst(prefix.utf8.count)
    }
}
