/// Decides whether a file name matches a query: the query is contained in the
/// name, ignoring case the Unicode way (`CAFÉ` finds `café`, `STRASSE` finds
/// `Straße`) and diacritics (`cafe` finds `café`, `resume` finds `Résumé.pdf`),
/// whatever the normalization (NFC and NFD meet: `e\u{301}` is `é`, a Hangul
/// syllable is its jamo, `が` is `か` with its voicing mark).
///
/// Both sides are folded to one canonical byte form, and matching is a byte
/// search of the folded query in the folded name. UTF-8 never matches in the
/// middle of a scalar, so this is containment of Unicode scalars: a query may
/// match inside a grapheme cluster (`👍` finds `👍🏽`). Names are folded once,
/// when the shared folder indexes them, and the query once per request: a
/// query over many names is one byte search over all of them.
public struct NameMatcher: Sendable {
    public let query: String
    /// The folded query's bytes.
    public let foldedQueryUTF8: [UInt8]

    public init(query: String) {
        self.query = query
        self.foldedQueryUTF8 = Self.foldedUTF8(query)
    }

    /// The canonical form matching compares: composed (NFC, the standard
    /// library's own normalization), then Unicode case folding, close to the
    /// full `CaseFolding.txt` mapping (upper-casing first maps `ß` to `SS` and
    /// final `ς` to `Σ`, then lower-casing gives one form for every case
    /// variant), then diacritics removed (`Diacritics`).
    public static func fold(_ text: String) -> String {
        let composed = String(decoding: text._nfcCodeUnits, as: UTF8.self)
        return Diacritics.strip(composed.uppercased().lowercased())
    }

    /// `fold(text)` as bytes; ASCII text (most names) takes a short cut with
    /// the same result: lower-cased bytes.
    public static func foldedUTF8(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return Array(fold(text).utf8) }
        for index in bytes.indices where bytes[index] >= UInt8(ascii: "A") && bytes[index] <= UInt8(ascii: "Z") {
            bytes[index] += 0x20
        }
        return bytes
    }

    /// Whether `name` matches (folded here: for one-off checks).
    public func matches(_ name: String) -> Bool {
        Self.contains(Self.foldedUTF8(name), foldedQueryUTF8)
    }

    /// Byte substring search.
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == first {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
