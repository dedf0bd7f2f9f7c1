import Testing

@testable import PPlus2Core

@Suite("Answers read from other peers")
struct AnswerParsingTests {
    @Test func keepsValidPeersAndSkipsTheRest() {
        let text = """
            10.0.0.1:5000
            10.0.0.1:5000
            0.0.0.0:5000
            224.0.0.251:5353
            255.255.255.255:1
            10.0.0.2:0
            10.0.0.2:65534
            host.example:5000
            [::1]:5000
            10.0.0.3:5003\r
            \u{1}\u{2}garbage
            10.0.0.4:5004
            """
        let answer = PeerListAnswer(parsing: Array(text.utf8))
        #expect(answer.peers.map(\.description) == ["10.0.0.1:5000", "10.0.0.3:5003", "10.0.0.4:5004"])
        #expect(answer.skippedLines == 8)
        #expect(!answer.wasCut)
    }

    @Test func namesThatDifferInTheirBytesAreTwoFiles() {
        // `café.txt` composed (U+00E9) and decomposed (e + U+0301): equal as Strings, two files on disk.
        let composed = "caf\u{E9}.txt"
        let decomposed = "cafe\u{301}.txt"
        let answer = QueryAnswer(parsing: Array("\(composed)\n\(decomposed)\n\(composed)\n".utf8))
        #expect(answer.names.map { Array($0.utf8) } == [Array(composed.utf8), Array(decomposed.utf8)])
    }

    @Test func stopsReadingAtTheByteLimitAndKeepsWhatParsed() {
        var splitter = AnswerLines(maxLineBytes: 10, maxLines: 100, maxBytes: 12)
        var lines: [String] = []
        let goOn = splitter.consume(Array("abc\ndef\nghijkl".utf8)) {
            lines.append(String(decoding: $0, as: UTF8.self))
        }
        splitter.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(!goOn)
        #expect(lines == ["abc", "def"])  // the cut-off last line is not taken
        #expect(splitter.reachedByteLimit && splitter.wasCut)
    }

    @Test func capsAHugePeerList() {
        var text = ""
        for index in 0..<100_000 { text += "10.\(index / 65536).\(index / 256 % 256).\(index % 256 + 0):7000\n" }
        let answer = PeerListAnswer(parsing: Array(text.utf8))
        #expect(answer.wasCut)
        #expect(answer.peers.count <= PeerListAnswer.maxLines)
        #expect(answer.peers.count > 1000)
    }

    @Test func skipsOverlongLinesWithoutKeepingThem() {
        let long = String(repeating: "9", count: 10_000)
        let answer = PeerListAnswer(parsing: Array("\(long)\n10.0.0.1:5000\n".utf8))
        #expect(answer.peers.map(\.description) == ["10.0.0.1:5000"])
        #expect(answer.skippedLines == 1)
    }

    @Test func keepsOnlyValidNamesFromAQueryAnswer() {
        var bytes = Array("good.txt\n../etc/passwd\n/abs\n.hidden\nsub/dir\nok two.pdf\r\n".utf8)
        bytes += [0x62, 0x61, 0x64, 0xFF, 0x0A]  // invalid UTF-8
        bytes += Array((String(repeating: "n", count: 300) + "\n").utf8)  // too long
        bytes += Array("tab\there\nlast".utf8)  // last line without `\n`
        let answer = QueryAnswer(parsing: bytes)
        #expect(answer.names == ["good.txt", "ok two.pdf", "last"])
        #expect(answer.skippedLines == 7)
    }

    @Test func capsLinesOfAQueryAnswer() {
        let bytes = Array(String(repeating: "x\n", count: QueryAnswer.maxLines + 10).utf8)
        var splitter = QueryAnswer.makeSplitter()
        var count = 0
        splitter.consume(bytes) { _ in count += 1 }
        #expect(count == QueryAnswer.maxLines)
        #expect(splitter.cutLines == 10)
        #expect(splitter.wasCut && !splitter.reachedByteLimit)
        let answer = QueryAnswer(parsing: bytes)
        #expect(answer.names == ["x"])  // duplicates are listed once
        #expect(answer.cutLines == 10)
    }
}
