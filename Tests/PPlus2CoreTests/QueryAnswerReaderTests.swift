import PPlus2Core
import Testing

/// A query answer read as it streams in, in chunks of any size.
@Suite struct QueryAnswerReaderTests {
    static let digest = SHA256.hash(Array("x".utf8))

    static func read(_ text: String, extended: Bool, chunk: Int, room: inout Int) -> QueryAnswerReader {
        var reader = QueryAnswerReader(extended: extended)
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count, reader.status == .reading {
            _ = reader.consume(bytes[start..<min(start + chunk, bytes.count)], room: &room)
            start += chunk
        }
        if reader.status == .reading { _ = reader.finish(room: &room) }
        return reader
    }

    @Test func anExtendedAnswerInChunksOfEverySize() {
        let text = "\(Extension.header)\n12 \(Self.digest) a.txt\n7 - b c.txt\n"
        for chunk in 1...text.utf8.count {
            var room = 100
            let reader = Self.read(text, extended: true, chunk: chunk, room: &room)
            #expect(reader.status == .done)
            #expect(
                reader.answer.entries == [
                    .init(name: "a.txt", size: 12, sha256: Self.digest), .init(name: "b c.txt", size: 7),
                ]
            )
            #expect(room == 98)
        }
    }

    @Test func aPlainPeersAnswerToTheExtendedQuestionIsToldAtOnce() {
        for text in ["a.txt\nb.txt\n", "", "\u{1}P+2x/9\n", "\u{1}P+2x/1 junk\n"] {
            var room = 100
            let reader = Self.read(text, extended: true, chunk: 3, room: &room)
            #expect(reader.status == .notExtended, "\(text.debugDescription)")
        }
        var room = 100
        let crlf = Self.read("\(Extension.header)\r\n5 - x.txt\r\n", extended: true, chunk: 4, room: &room)
        #expect(crlf.status == .done && crlf.answer.entries.map(\.name) == ["x.txt"])
    }

    @Test func theSearchsRoomIsSharedAndWhatIsPastItIsCounted() {
        var room = 3
        let first = Self.read("a\nb\n", extended: false, chunk: 100, room: &room)
        let second = Self.read("c\nd\ne\n", extended: false, chunk: 100, room: &room)
        #expect(first.answer.entries.count == 2 && second.answer.entries.count == 1)
        #expect(second.answer.cutLines == 2 && room == 0)
    }

    @Test func duplicatesInvalidNamesAndTheByteCap() {
        var room = 100
        let reader = Self.read("a\na\n.hidden\nb\n", extended: false, chunk: 2, room: &room)
        #expect(reader.answer.entries.map(\.name) == ["a", "b"])
        #expect(reader.answer.skippedLines == 1)
        var big = 1_000_000
        let flood = String(repeating: "name-of-a-file\n", count: QueryAnswer.maxBytes / 15 + 10)
        let capped = Self.read(flood, extended: false, chunk: 65_536, room: &big)
        #expect(capped.status == .done && capped.answer.reachedByteLimit)
    }
}
