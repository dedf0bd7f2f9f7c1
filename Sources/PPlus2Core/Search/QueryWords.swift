/// A console query of several words: the files whose name holds every word,
/// in any order, with the same case and diacritic rules as one word
/// (`report final` finds `Final-Report.pdf`, as Gnutella and `locate` do).
/// Text in double quotes is one word, spaces kept (`"annual report"`). A query
/// of one word is the plain rule, spaces and all (the wire's).
///
/// On the wire nothing changes: peers are asked for one of the words (the
/// longest: the fewest names come back), and the console keeps the names that
/// hold them all.
public struct QueryWords: Sendable, Equatable {
    /// The words, quotes removed; one word for a plain query.
    public let words: [String]

    public init(_ query: String) {
        var words: [String] = []
        var current = ""
        var quoted = false
        var hadQuote = false
        for character in query {
            if character == "\"" {
                quoted.toggle()
                hadQuote = true
            } else if character == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        // One word (or none) without quotes: the query as typed, the plain rule.
        self.words = words.count <= 1 && !hadQuote ? [query] : words
    }

    /// More than one word: names are filtered here.
    public var isSeveral: Bool { words.count > 1 }

    /// What peers are asked for: the longest word (its UTF-8 bytes), the query itself for one word.
    public var wireQuery: String { words.max { $0.utf8.count < $1.utf8.count } ?? "" }

    /// Whether `name` holds every word.
    public func matches(_ name: String) -> Bool {
        guard isSeveral else { return true }  // the peers already applied the one word
        let folded = NameMatcher.foldedUTF8(name)
        return words.allSatisfy { word in NameMatcher(query: word).matches(folded: folded) }
    }
}

extension NameMatcher {
    /// Whether an already folded name holds the query.
    public func matches(folded name: [UInt8]) -> Bool {
        guard let first = foldedQueryUTF8.first else { return true }
        guard name.count >= foldedQueryUTF8.count else { return false }
        for start in 0...(name.count - foldedQueryUTF8.count) where name[start] == first {
            if name[start..<(start + foldedQueryUTF8.count)].elementsEqual(foldedQueryUTF8) { return true }
        }
        return false
    }
}
