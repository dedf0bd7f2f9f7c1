/// A query answer read as it streams in, line by line: only the entries kept
/// and the line being read are held, never the whole answer. A search reads
/// hundreds at once; each costs its kept matches and at most one line.
///
/// The caps are the whole-answer parser's (`QueryAnswer`: lines, bytes, line
/// length) and one more, `room`: the matches the search may still keep over
/// all peers, shared by every answer it reads and taken as lines arrive;
/// entries past it are counted as cut, not kept.
public struct QueryAnswerReader: Sendable {
    /// What the answer turned out to be.
    public enum Status: Equatable, Sendable {
        /// Still reading.
        case reading
        /// The answer ended (or its byte cap was reached): `answer` is it.
        case done
        /// Asked in the extension, but its first line is not the extension's
        /// header: a plain peer; ask again in plain P+2.
        case notExtended
    }

    public private(set) var answer = QueryAnswer()
    public private(set) var status = Status.reading
    private var splitter = QueryAnswer.makeSplitter()
    private var seen = Set<[UInt8]>()
    /// For an extended answer: whether the header line is still awaited, and
    /// the bytes of it seen so far (it is short).
    private var awaitingHeader: Bool
    private var headerBytes: [UInt8] = []

    /// `extended`: the answer to `\u{1}find`, which must start with the header.
    public init(extended: Bool) {
        awaitingHeader = extended
        answer.isExtended = extended
    }

    /// Reads a chunk that arrived. Returns the status: `.done` once the byte
    /// cap is reached (stop reading), `.notExtended` as soon as the header is
    /// known to be missing.
    public mutating func consume(_ chunk: ArraySlice<UInt8>, room: inout Int) -> Status {
        var bytes = chunk
        if awaitingHeader {
            guard let rest = takeHeader(&bytes) else { return status }
            bytes = rest
        }
        var lines: [ArraySlice<UInt8>] = []
        let more = splitter.consume(bytes) { lines.append($0) }
        for line in lines { take(line, room: &room) }
        if !more { finishCounts() }
        return status
    }

    /// The answer ended (the callee closed).
    public mutating func finish(room: inout Int) -> Status {
        if awaitingHeader {
            // An empty answer, or a header cut short: a plain peer's way.
            status = headerBytes.isEmpty || !isHeader(headerBytes) ? .notExtended : .done
            if status == .notExtended { return status }
        }
        var last: ArraySlice<UInt8>?
        splitter.finish { last = $0 }
        if let last { take(last, room: &room) }
        finishCounts()
        return status
    }

    /// Takes the header line off the front; nil while it is still incomplete
    /// or once it is known not to be there.
    private mutating func takeHeader(_ bytes: inout ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let header = Array(Extension.header.utf8)
        for (offset, byte) in zip(bytes.indices, bytes) {
            if byte == UInt8(ascii: "\n") {
                guard isHeader(headerBytes) else {
                    status = .notExtended
                    return nil
                }
                awaitingHeader = false
                return bytes[(offset + 1)...]
            }
            headerBytes.append(byte)
            // Not a prefix of the header (a `\r` may end it): not the extension.
            let matches = headerBytes.count <= header.count ? header.starts(with: headerBytes) : isHeader(headerBytes)
            if !matches || headerBytes.count > header.count + 1 {
                status = .notExtended
                return nil
            }
        }
        return nil
    }

    private func isHeader(_ line: [UInt8]) -> Bool {
        let header = Array(Extension.header.utf8)
        return line == header || line == header + [UInt8(ascii: "\r")]
    }

    private mutating func take(_ line: ArraySlice<UInt8>, room: inout Int) {
        let entry: QueryAnswer.Entry? =
            answer.isExtended
            ? Extension.parseMatchLine(line) : SharedFileName.validated(utf8: line).map { QueryAnswer.Entry(name: $0) }
        guard let entry else {
            answer.skippedLines += 1
            return
        }
        guard room > 0 else {
            answer.cutLines += 1  // past the search's cap: counted, not kept
            return
        }
        guard seen.insert(Array(line)).inserted else { return }
        answer.entries.append(entry)
        room -= 1
    }

    private mutating func finishCounts() {
        answer.skippedLines += splitter.skippedLines
        answer.cutLines += splitter.cutLines
        answer.reachedByteLimit = splitter.reachedByteLimit
        status = .done
        seen = []
    }
}
