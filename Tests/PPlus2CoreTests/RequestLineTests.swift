import Testing

@testable import PPlus2Core

@Suite("Request line framing")
struct RequestLineTests {
    private func read(_ bytes: [UInt8], chunk: Int = .max, closeAtEnd: Bool = true) -> RequestLineReader.Outcome {
        var reader = RequestLineReader()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            let outcome = reader.append(bytes[offset..<end])
            if outcome != .needMore { return outcome }
            offset = end
        }
        return closeAtEnd ? reader.finish() : .needMore
    }

    @Test func endsAtNewlineAndStripsCarriageReturn() {
        #expect(read(Array("report\n".utf8)) == .line("report"))
        #expect(read(Array("report\r\n".utf8)) == .line("report"))
        #expect(read(Array("\n".utf8)) == .line(""))
        #expect(read(Array("a\r\r\n".utf8)) == .line("a\r"))  // only one `\r` is the terminator's
    }

    @Test func ignoresBytesAfterTheFirstNewline() {
        #expect(read(Array("first\nsecond\n".utf8)) == .line("first"))
    }

    @Test func takesTextWithoutNewlineWhenTheCallerCloses() {
        #expect(read(Array("x".utf8)) == .line("x"))
        #expect(read(Array("x\r".utf8)) == .line("x"))
        #expect(read([]) == .line(""))
        #expect(read(Array("x".utf8), closeAtEnd: false) == .needMore)
    }

    @Test func allowsExactly4096Bytes() {
        let text = String(repeating: "a", count: 4096)
        #expect(read(Array((text + "\n").utf8)) == .line(text))
        #expect(read(Array((text + "\r\n").utf8)) == .line(text))
        #expect(read(Array(text.utf8)) == .line(text))
        #expect(read(Array((text + "a\n").utf8)) == .invalid(.tooLong))
        #expect(read(Array((text + "a").utf8)) == .invalid(.tooLong))
    }

    @Test func refusesTooLongLinesBeforeTheirEnd() {
        // A caller that never sends `\n` is refused as soon as it passes the limit.
        var reader = RequestLineReader()
        #expect(reader.append([UInt8](repeating: 0x61, count: 4096)) == .needMore)
        #expect(reader.append([0x61]) == .invalid(.tooLong))
        #expect(reader.bufferedCount <= RequestLineReader.maxLineBytes + 1)
    }

    @Test func refusesNULAndInvalidUTF8() {
        #expect(read([0x61, 0x00, 0x62, 0x0A]) == .invalid(.containsNUL))
        #expect(read([0xFF, 0xFE, 0x0A]) == .invalid(.notUTF8))
        #expect(read([0xC3, 0x0A]) == .invalid(.notUTF8))  // truncated sequence
        #expect(read([0xED, 0xA0, 0x80, 0x0A]) == .invalid(.notUTF8))  // surrogate
        #expect(read(Array("café\n".utf8)) == .line("café"))
    }

    @Test(arguments: [1, 2, 3, 7, 64, 4095, 4096, 4097])
    func givesTheSameAnswerForEveryChunkSize(chunk: Int) {
        let inputs: [[UInt8]] = [
            Array("report.pdf\r\n".utf8),
            Array((String(repeating: "é", count: 2048) + "\n").utf8),
            Array((String(repeating: "a", count: 4096) + "\r\n").utf8),
            Array(String(repeating: "a", count: 5000).utf8),
            [0x61, 0x00, 0x0A],
            Array("no newline".utf8),
        ]
        for input in inputs {
            #expect(read(input, chunk: chunk) == read(input))
        }
    }
}
