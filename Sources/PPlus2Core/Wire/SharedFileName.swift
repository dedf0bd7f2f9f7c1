/// The rules for a name that may be offered, asked for, and written.
///
/// One set of rules serves three places: the shared folder offers only such
/// names, the download service serves only such names, and a downloading peer
/// writes only such names. A valid name is a single path component that cannot
/// escape the folder or hide a partial download:
/// - valid UTF-8, 1 to 255 bytes (the usual file-system limit, `NAME_MAX`);
/// - does not start with `.` (so not `.`, `..`, nor a partial or state file);
/// - holds no `/` and no control character (U+0000-U+001F, U+007F).
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

    /// The byte rules; any byte below 0x20 and 0x7F are control characters, and
    /// since UTF-8 never uses these values inside a multi-byte sequence, a byte
    /// scan finds every one of them.
    static func passesByteRules(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first, first != UInt8(ascii: "."), bytes.count <= maxBytes else { return false }
        for byte in bytes where byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "/") {
            return false
        }
        return true
    }
}
