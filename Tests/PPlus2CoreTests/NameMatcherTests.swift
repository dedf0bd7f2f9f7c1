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
