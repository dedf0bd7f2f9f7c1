/// The rules for a name that may be offered, asked for, and written.
///
/// One set of rules serves three places: the shared folder offers only such
/// names, the download service serves only such names, and a downloading peer
/// writes only such names. A valid name is a single path component that cannot
/// escape the folder or hide a partial download:
/// - valid UTF-8, 1 to 255 bytes (the usual file-system limit, `NAME_MAX`);
/// - does not start with `.` (so not `.`, `..`, nor a partial or state file);
/// - holds no `/` and no control character: C0 (U+0000-U+001F), DEL (U+007F)
///   and C1 (U+0080-U+009F, which a terminal may take for escape sequences).
public enum SharedFileName {
    /// The longest name, in UTF-8 bytes.
    public static let maxBytes = 255

    public static func isValid(_ name: String) -> Bool {
        passesByteRules(name.utf8)
    }

    /// Applies the rules to raw bytes; valid UTF-8 is checked too.
    public static func validated(utf8 bytes: some Collection<UInt8>) -> String? {
        guard passesByteRules(bytes) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The byte rules. C0 controls and DEL are single bytes that UTF-8 never
    /// uses inside a multi-byte sequence, so a byte scan finds every one; a C1
    /// control is the two bytes `C2 80`-`C2 9F` (`C2` only ever starts a
    /// sequence, so the pair cannot be the tail of another character).
    static func passesByteRules(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first, first != UInt8(ascii: "."), bytes.count <= maxBytes else { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "/") { return false }
            if previous == 0xC2 && (0x80...0x9F).contains(byte) { return false }
            previous = byte
        }
        return true
    }
}
