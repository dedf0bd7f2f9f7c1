import PPlus2Core
import Testing

/// The one line framer, fed in chunks of every size (as swift-nio's
/// `NIOSplitLinesMessageDecoderTests` feeds its decoder) and checked against a
/// reference split of the whole input.
@Suite struct LineFramerTests {
    /// What the framer must find in `input`, by splitting it all at once.
    private func reference(_ input: [UInt8], max: Int, overlong: LineFramer.Overlong) -> [LineFramer.Piece] {
        var pieces: [LineFramer.Piece] = []
        var lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if input.last == UInt8(ascii: "\n") || input.isEmpty { lines.removeLast() }
        for var line in lines {
            if line.last == UInt8(ascii: "\r") && line.count <= max + 1 { line.removeLast() }
            guard line.count > max else {
                pieces.append(.line(line))
                continue
            }
            switch overlong {
            case .drop: pieces.append(.overlong)
            case .split:
                var rest = line
                while rest.count > max {
                    pieces.append(.line(rest.prefix(max)))
                    rest = rest.dropFirst(max)
                }
                if rest.last == UInt8(ascii: "\r") { rest.removeLast() }
                pieces.append(.line(rest))
            }
        }
        return pieces
    }

    private func frame(_ input: [UInt8], chunk: Int, max: Int, overlong: LineFramer.Overlong) -> [LineFramer.Piece] {
        var framer = LineFramer(maxLineBytes: max, overlong: overlong)
        var pieces: [LineFramer.Piece] = []
        var start = 0
        while start < input.count {
            for byte in input[start..<min(start + chunk, input.count)] {
                if let piece = framer.take(byte) { pieces.append(piece) }
            }
            #expect(framer.heldCount <= max + 1)
            start += chunk
        }
        if let last = framer.finish() { pieces.append(last) }
        return pieces.map { piece in
            if case .line(let bytes) = piece { return .line(Array(bytes)[...]) }
            return piece
        }
    }

    @Test(arguments: [LineFramer.Overlong.drop, .split])
    func agreesWithASplitOfTheWholeInputInChunksOfEverySize(_ overlong: LineFramer.Overlong) {
        let input = Array("one\r\ntwo\n\nthree is long\r\nfour\r\r\nfive-is-much-longer-than-eight\nsix".utf8)
        let expected = reference(input, max: 8, overlong: overlong).map { piece in
            if case .line(let bytes) = piece { return LineFramer.Piece.line(Array(bytes)[...]) }
            return piece
        }
        for chunk in 1...input.count {
            #expect(frame(input, chunk: chunk, max: 8, overlong: overlong) == expected, "chunk \(chunk)")
        }
    }

    @Test func stripsOneCarriageReturnOnlyAndKeepsItsRoom() {
        #expect(frame(Array("a\r\r\n".utf8), chunk: 1, max: 8, overlong: .drop) == [.line(Array("a\r".utf8)[...])])
        // Eight bytes and a `\r` fit a limit of eight; nine bytes do not.
        #expect(
            frame(Array("12345678\r\n".utf8), chunk: 3, max: 8, overlong: .drop) == [.line(Array("12345678".utf8)[...])]
        )
        #expect(frame(Array("123456789\n".utf8), chunk: 3, max: 8, overlong: .drop) == [.overlong])
    }

    @Test func reportsAnOverlongLineAsSoonAsItIsKnown() {
        var framer = LineFramer(maxLineBytes: 4, overlong: .drop)
        #expect(Array("1234".utf8).compactMap { framer.take($0) }.isEmpty)
        #expect(framer.take(UInt8(ascii: "5")) == .overlong)  // no `\n` needed to know
        #expect(framer.take(UInt8(ascii: "6")) == nil)  // reported once
        #expect(framer.take(UInt8(ascii: "\n")) == nil)
        #expect(framer.take(UInt8(ascii: "a")) == nil)
        #expect(framer.finish() == .line(Array("a".utf8)[...]))
    }
}

@Suite struct HiddenFileTests {
    @Test func namesAndRecognisesEveryHiddenFile() {
        let files: [HiddenFile] = [.partial(pid: 123, number: 7), .peerList, .peerListDraft(pid: 42)]
        #expect(files.map(\.name) == [".pplus2-123-7.part", ".pplus2-peers", ".pplus2-peers.42.tmp"])
        for file in files { #expect(HiddenFile(name: file.name) == file) }
        #expect(files.map(\.owner) == [123, nil, 42])
    }

    @Test(arguments: [
        "report.pdf", ".pplus2-", ".pplus2-x-1.part", ".pplus2-1-.part", ".pplus2-+1-2.part", ".pplus2-01-2.part",
        ".pplus2-peers.tmp", ".pplus2-peers.x.tmp", ".pplus2-peersx", ".other-1-2.part",
    ])
    func refusesEverythingElse(_ name: String) {
        #expect(HiddenFile(name: name) == nil)
    }

    @Test func noHiddenFileIsAShareableName() {
        for file in [HiddenFile.partial(pid: 1, number: 1), .peerList, .peerListDraft(pid: 1)] {
            #expect(!SharedFileName.isValid(file.name))
        }
    }
}
