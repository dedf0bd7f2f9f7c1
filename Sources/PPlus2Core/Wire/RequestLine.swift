/// Frames the one request line a caller sends, under the contract's limits.
///
/// Feed it bytes as they arrive; it answers as soon as it can tell:
/// - a `\n` ends the line and a trailing `\r` is stripped;
/// - a connection that closes before any `\n` hands over what it sent (`finish()`);
/// - a line over 4096 bytes, not valid UTF-8, or holding a NUL is invalid, and
///   the callee closes without an answer.
///
/// Bytes after the first `\n` are ignored: one connection carries one request.
public struct RequestLineReader: Sendable {
    /// The longest request line, in bytes, not counting its `\r\n` or `\n`.
    public static let maxLineBytes = 4096

    public enum Outcome: Equatable, Sendable {
        /// No `\n` yet and still within the limit: read more.
        case needMore
        /// A complete, valid line, terminator stripped.
        case line(String)
        /// The request breaks a rule; the callee closes without answering.
        case invalid(RequestLineError)
    }

    private var framer = LineFramer(maxLineBytes: maxLineBytes, overlong: .drop)

    public init() {}

    /// Bytes buffered so far (at most `maxLineBytes + 1`).
    public var bufferedCount: Int { framer.heldCount }

    /// Appends bytes that arrived and says whether the line is complete.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> Outcome {
        for byte in bytes {
            if let piece = framer.take(byte) { return Self.outcome(of: piece) }
        }
        return .needMore
    }

    /// The caller closed its side: what it sent is the line (`printf x | nc`).
    public mutating func finish() -> Outcome {
        framer.finish().map(Self.outcome(of:)) ?? Self.decode([])
    }

    private static func outcome(of piece: LineFramer.Piece) -> Outcome {
        switch piece {
        case .line(let bytes): decode(bytes)
        case .overlong: .invalid(.tooLong)
        }
    }

    /// Validates one framed line (its `\n` and `\r` already stripped by the
    /// framer): the length, NUL and UTF-8 rules.
    static func decode(_ text: ArraySlice<UInt8>) -> Outcome {
        guard text.count <= maxLineBytes else { return .invalid(.tooLong) }
        guard !text.contains(0) else { return .invalid(.containsNUL) }
        guard let string = String(validating: text, as: UTF8.self) else { return .invalid(.notUTF8) }
        return .line(string)
    }
}

/// Why a request line was refused.
public enum RequestLineError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLong
    case containsNUL
    case notUTF8

    public var description: String {
        switch self {
        case .tooLong: "request line longer than \(RequestLineReader.maxLineBytes) bytes"
        case .containsNUL: "request line holds a NUL byte"
        case .notUTF8: "request line is not valid UTF-8"
        }
    }
}
