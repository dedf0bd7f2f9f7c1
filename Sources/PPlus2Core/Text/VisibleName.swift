/// A name as it is shown to a person: what they read is what it is.
///
/// Format and bidirectional controls (Unicode category Cf: U+200B-U+200F,
/// U+202A-U+202E, U+2066-U+2069, U+FEFF, U+00AD...) are shown as visible
/// escapes such as `<U+202E>`, so `invoice-\u{202E}gpj.exe` cannot pass for a
/// picture. So are the characters that render as a line break or as nothing:
/// the line and paragraph separators (U+2028, U+2029), which a terminal shows
/// as nothing and a script splitting on Unicode line breaks reads as the end
/// of a listing line, and the fillers that draw nothing (U+034F, U+115F,
/// U+1160, U+3164, U+FFA0). (Control characters never get this far: no
/// offered name holds one; they are escaped anyway.)
public enum VisibleName {
    public static func text(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: isHidden) else { return name }
        var shown = ""
        for scalar in name.unicodeScalars {
            if isHidden(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                shown += "<U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)>"
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .format, .control, .lineSeparator, .paragraphSeparator: return true
        default: return invisible.contains(scalar.value)
        }
    }

    /// Letters and marks that draw nothing at all.
    private static let invisible: Set<UInt32> = [0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0]
}
