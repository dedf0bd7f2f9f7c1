import Testing

@testable import PPlus2Core

@Suite("Name matching")
struct NameMatcherTests {
    @Test func matchesSubstringsIgnoringCase() {
        let matcher = NameMatcher(query: "PORT")
        #expect(matcher.matches("report.pdf"))
        #expect(matcher.matches("Portrait.PNG"))
        #expect(!matcher.matches("pot.txt"))
    }

    @Test func ignoresCaseTheUnicodeWay() {
        #expect(NameMatcher(query: "CAFÉ").matches("café.txt"))
        #expect(NameMatcher(query: "café").matches("CAFÉ.TXT"))
        #expect(NameMatcher(query: "STRASSE").matches("Straße.pdf"))
        #expect(NameMatcher(query: "ΣΟΦΊΑ").matches("σοφία.txt"))
        // The contract: pplus2 also ignores diacritics (cafe finds café).
        #expect(NameMatcher(query: "cafe").matches("café.txt"))
        #expect(!NameMatcher(query: "cafes").matches("café.txt"))
    }

    @Test func comparesCanonicallyEquivalentText() {
        // é as one scalar in the query, as e + combining acute in the name.
        #expect(NameMatcher(query: "caf\u{E9}").matches("cafe\u{301}.txt"))
        // Diacritics are ignored: a plain e matches an accented one, composed or not.
        #expect(NameMatcher(query: "cafe.").matches("cafe\u{301}.txt"))
    }

    @Test func composedAndDecomposedMeetInEveryScript() {
        // Kana with its voicing mark: composed が (U+304C), decomposed か + U+3099.
        #expect(NameMatcher(query: "\u{304C}").matches("\u{304B}\u{3099}.txt"))
        #expect(NameMatcher(query: "\u{304B}\u{3099}").matches("\u{304C}.txt"))
        // Hangul: the syllable 가 (U+AC00) and its jamo (U+1100 U+1161).
        #expect(NameMatcher(query: "\u{AC00}").matches("\u{1100}\u{1161}.txt"))
        #expect(NameMatcher(query: "\u{1100}\u{1161}").matches("\u{AC00}.txt"))
        #expect(!NameMatcher(query: "\u{AC01}").matches("\u{AC00}.txt"))
    }

    @Test func matchesScalarsEvenInsideAGraphemeCluster() {
        #expect(NameMatcher(query: "👍").matches("👍🏽 thumbs.png"))
        #expect(!NameMatcher(query: "👎").matches("👍🏽 thumbs.png"))
    }

    @Test func aLongQueryFoldsToOneShortByteString() {
        // 2048 é (4096 bytes, the longest request line) fold to 2048 bytes of e.
        let folded = NameMatcher(query: String(repeating: "\u{E9}", count: 2048)).foldedQueryUTF8
        #expect(folded == [UInt8](repeating: UInt8(ascii: "e"), count: 2048))
        #expect(NameMatcher.foldedUTF8("ReadMe.TXT") == Array("readme.txt".utf8))
    }

    @Test func emptyQueryMatchesEverything() {
        let matcher = NameMatcher(query: "")
        #expect(matcher.matches("anything"))
        #expect(matcher.matches("é"))
    }

    @Test func agreesWithTheCharacterSearchOnASCII() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("abAB.-_ 0")
        for _ in 0..<2000 {
            let name = String((0..<Int(generator.next() % 12)).map { _ in alphabet[Int(generator.next() % 9)] })
            let query = String((0..<Int(generator.next() % 4)).map { _ in alphabet[Int(generator.next() % 9)] })
            let expected = query.isEmpty || name.lowercased().contains(query.lowercased())
            #expect(NameMatcher(query: query).matches(name) == expected, "\(query) in \(name)")
        }
    }
}
