/// Splits a byte stream into lines: the one line framer of the project, used
/// by the request reader (one line a connection), the answer splitter (many
/// lines from another peer) and the console's input.
///
/// A line ends at `\n`; one trailing `\r` is stripped (telnet and Windows send
/// `\r\n`). At most `maxLineBytes` of a line are held, plus room for its `\r`,
/// so memory stays bounded whatever arrives. What happens to a longer line is
/// the reader's choice, `Overlong`.
public struct LineFramer: Sendable {
    /// What to do with a line longer than `maxLineBytes`.
    public enum Overlong: Sendable {
        /// Report it once (`.overlong`) and drop its bytes up to the next `\n`.
        case drop
        /// Cut it: every `maxLineBytes` bytes are a line of their own.
        case split
    }

    /// One thing the framer found in the stream.
    public enum Piece: Equatable, Sendable {
        /// A complete line, without its `\n` and `\r`.
        case line(ArraySlice<UInt8>)
        /// A line over `maxLineBytes` began (with `.drop`); its bytes are dropped.
        case overlong
    }

    public let maxLineBytes: Int
    public let overlong: Overlong
    private var current: [UInt8] = []
    private var isDropping = false

    public init(maxLineBytes: Int, overlong: Overlong) {
        self.maxLineBytes = maxLineBytes
        self.overlong = overlong
    }

    /// Bytes held for the line in progress (at most `maxLineBytes + 1`).
    public var heldCount: Int { current.count }

    /// True when bytes of an unfinished line are held (or being dropped).
    public var hasPartialLine: Bool { !current.isEmpty || isDropping }

    /// Takes one byte; returns a piece when this byte completes one.
    @inline(__always)
    public mutating func take(_ byte: UInt8) -> Piece? {
        if byte == UInt8(ascii: "\n") { return endLine() }
        if isDropping { return nil }
        // Room for `maxLineBytes` of text plus the `\r` of a `\r\n`.
        if current.count <= maxLineBytes {
            current.append(byte)
            // Full, and the last byte is no `\r`: whatever comes next, the line is too long.
            if current.count == maxLineBytes + 1 && byte != UInt8(ascii: "\r") { return overflow() }
            return nil
        }
        return overflow(then: byte)
    }

    /// The stream ended: a last line without `\n` still counts.
    public mutating func finish() -> Piece? {
        guard hasPartialLine else { return nil }
        return endLine()
    }

    private mutating func endLine() -> Piece? {
        defer {
            current.removeAll(keepingCapacity: true)
            isDropping = false
        }
        if isDropping { return nil }  // already reported
        var line = current[...]
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.count > maxLineBytes { return overflow() }
        return .line(Array(line)[...])
    }

    /// The held line is one byte too long (`then`: the byte that did not fit, if any).
    private mutating func overflow(then byte: UInt8? = nil) -> Piece? {
        switch overlong {
        case .drop:
            current.removeAll(keepingCapacity: true)
            isDropping = true
            return .overlong
        case .split:
            let line = Array(current.prefix(maxLineBytes))
            current.removeFirst(min(maxLineBytes, current.count))
            if let byte { current.append(byte) }
            return .line(line[...])
        }
    }
}
