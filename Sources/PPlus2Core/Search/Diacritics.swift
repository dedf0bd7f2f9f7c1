/// Diacritic removal for matching: `café` and `cafe`, `Résumé` and `resume`, a
/// name stored decomposed (NFD, as macOS writes it) and a query typed composed
/// (NFC) all meet.
///
/// What canonical decomposition (NFD) followed by dropping the combining marks
/// gives, for the Latin, Greek and Cyrillic letters: combining marks (any
/// scalar with a canonical combining class) are dropped, and each precomposed
/// letter is replaced by its base letter. The table is derived once from the standard library's own
/// Unicode names (`LATIN SMALL LETTER E WITH ACUTE` -> `LATIN SMALL LETTER E`),
/// for the marks that NFD separates; letters whose mark is part of the letter
/// (`ø`, `đ`, `ł`: a stroke) stay, as NFD leaves them. A test checks it against
/// Python's `unicodedata` on every code point it covers.
enum Diacritics {
    /// The text with its diacritics removed.
    static func strip(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value >= 0xC0 }) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.properties.canonicalCombiningClass != .notReordered { continue }  // a combining mark
            result.append(contentsOf: base[scalar.value] ?? [scalar])
        }
        return String(result)
    }

    /// The marks NFD separates from a letter, as Unicode names them.
    private static let separableMarks: Set<String> = [
        "GRAVE", "ACUTE", "CIRCUMFLEX", "TILDE", "MACRON", "BREVE", "DOT ABOVE", "DIAERESIS", "HOOK ABOVE",
        "RING ABOVE", "DOUBLE ACUTE", "CARON", "DOUBLE GRAVE", "INVERTED BREVE", "HORN", "DOT BELOW",
        "DIAERESIS BELOW", "RING BELOW", "COMMA BELOW", "CEDILLA", "OGONEK", "CIRCUMFLEX BELOW", "BREVE BELOW",
        "TILDE BELOW", "MACRON BELOW", "LINE BELOW", "TONOS", "DIALYTIKA", "VARIA", "OXIA", "PSILI", "DASIA",
        "PERISPOMENI", "YPOGEGRAMMENI", "PROSGEGRAMMENI", "VRACHY", "DOUBLE GRAVE ACCENT",
    ]

    /// Precomposed scalar -> its base letter(s), for the ranges covered.
    private static let base: [UInt32: [Unicode.Scalar]] = {
        let ranges: [ClosedRange<UInt32>] = [
            0x41...0x7A, 0xA8...0xA8, 0xC0...0x2AF, 0x370...0x3FF, 0x400...0x4FF, 0x1E00...0x1FFF,
        ]
        var byName: [String: Unicode.Scalar] = [:]
        var named: [(Unicode.Scalar, String)] = []
        for range in ranges {
            for value in range {
                guard let scalar = Unicode.Scalar(value), let name = scalar.properties.name else { continue }
                byName[name] = scalar
                named.append((scalar, name))
            }
        }
        var table: [UInt32: [Unicode.Scalar]] = [:]
        for (scalar, name) in named {
            guard let with = name.firstRange(of: " WITH ") else { continue }
            let letter = String(name[..<with.lowerBound])
            let marks = name[with.upperBound...].split(separator: " AND ").map(String.init)
            // The separable marks at the end go; a mark that is part of the letter (a stroke) stays.
            for kept in 0..<marks.count where marks[kept...].allSatisfy(separableMarks.contains) {
                let baseName = kept == 0 ? letter : letter + " WITH " + marks[..<kept].joined(separator: " AND ")
                if let base = byName[baseName] { table[scalar.value] = [base] }
                break
            }
        }
        // Letters whose names do not say their mark: Cyrillic й ё ѓ ї ќ ў (and capitals), Greek ΅ ϓ ϔ.
        let unnamed = [
            (0x419, 0x418), (0x439, 0x438), (0x401, 0x415), (0x451, 0x435), (0x403, 0x413), (0x453, 0x433),
            (0x407, 0x406), (0x457, 0x456), (0x40C, 0x41A), (0x45C, 0x43A), (0x40E, 0x423), (0x45E, 0x443),
            (0x385, 0xA8), (0x3D3, 0x3D2), (0x3D4, 0x3D2),
        ]
        for (composed, plain) in unnamed {
            table[UInt32(composed)] = [Unicode.Scalar(UInt32(plain))!]
        }
        return table
    }()
}
