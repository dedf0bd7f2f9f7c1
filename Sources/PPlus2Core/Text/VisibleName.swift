/// A name as it is shown to a person: what they read is what it is.
///
/// Format and bidirectional controls (Unicode category Cf: U+200B-U+200F,
/// U+202A-U+202E, U+2066-U+2069, U+FEFF, U+00AD...) are shown as visible
/// escapes such as `<U+202E>`, so `invoice-\u{202E}gpj.exe` cannot pass for a
/// picture. (Control characters never get this far: no offered name holds one.)
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
        scalar.properties.generalCategory == .format || (0x80...0x9F).contains(scalar.value) || scalar.value < 0x20
    }
}
