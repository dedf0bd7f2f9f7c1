/// Decides whether a file name matches a query: the query is contained in the
/// name, ignoring case the Unicode way (`CAFÉ` finds `café`, `STRASSE` finds
/// `Straße`) and diacritics (`cafe` finds `café`, `resume` finds `Résumé.pdf`),
/// and comparing characters, so `cafe\u{301}` equals `café`.
///
/// Names are folded once, when the shared folder is indexed, and the query once
/// per request, so a query over many names does no per-name folding.
public struct NameMatcher: Sendable {
    public let query: String
    private let foldedQuery: String
    /// The folded query's bytes.
    public let foldedQueryUTF8: [UInt8]
    /// True if the folded query is ASCII: then, against ASCII names, a byte
    /// search gives the same answer as comparing characters.
    public let isASCIIQuery: Bool

    public init(query: String) {
        self.query = query
        self.foldedQuery = Self.fold(query)
        self.foldedQueryUTF8 = Array(foldedQuery.utf8)
        self.isASCIIQuery = foldedQueryUTF8.allSatisfy { $0 < 0x80 }
    }

    /// Unicode case folding, close to the full `CaseFolding.txt` mapping:
    /// upper-casing first maps `ß` to `SS` and final `ς` to `Σ`, then
    /// lower-casing gives one form for every case variant; then diacritics
    /// go (`Diacritics`), so `cafe` finds `café` and NFC meets NFD.
    public static func fold(_ text: String) -> String {
        Diacritics.strip(text.uppercased().lowercased())
    }

    /// Whether the name, already passed through `fold`, contains the query.
    public func matches(folded name: FoldedName) -> Bool {
        if foldedQueryUTF8.isEmpty { return true }
        if isASCIIQuery && name.isASCII {
            return name.utf8.withUnsafeBufferPointer { Self.contains($0, foldedQueryUTF8) }
        }
        return name.text.contains(foldedQuery)
    }

    /// Folds `name` and matches it; for one-off checks.
    public func matches(_ name: String) -> Bool {
        matches(folded: FoldedName(name))
    }

    /// Byte substring search; ASCII text has one byte per character.
    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        let count = needle.count
        guard haystack.count >= count, let first = needle.first else { return haystack.count >= count }
        var start = 0
        let last = haystack.count - count
        while start <= last {
            if haystack[start] == first {
                var index = 1
                while index < count && haystack[start + index] == needle[index] { index += 1 }
                if index == count { return true }
            }
            start += 1
        }
        return false
    }
}

/// A name folded for matching, with a flag for the ASCII fast path.
public struct FoldedName: Sendable {
    public let text: String
    public let utf8: [UInt8]
    public let isASCII: Bool

    public init(_ name: String) {
        self.text = NameMatcher.fold(name)
        self.utf8 = Array(text.utf8)
        self.isASCII = utf8.allSatisfy { $0 < 0x80 }
    }
}
