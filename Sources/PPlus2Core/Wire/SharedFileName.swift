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

/// The rules for a relative path between pplus2 peers (`\u{1}find` and
/// `\u{1}get`, shared PROTOCOL.md "Folders"): components separated by `/`,
/// each a valid `SharedFileName` (so never empty, `.`, `..`, hidden, or
/// holding a control character), at most `maxComponents` of them and
/// `maxBytes` in all. A name of one component is a top-level file, the only
/// kind plain P+2 offers.
public enum SharedPath {
    public static let maxComponents = 16
    public static let maxBytes = 4096

    public static func isValid(_ path: String) -> Bool {
        passesByteRules(path.utf8)
    }

    /// A name to serve or save: a relative path with `folders` (between
    /// pplus2 peers), else a top-level name (plain P+2 has no folders).
    public static func isValid(_ name: String, folders: Bool) -> Bool {
        folders ? isValid(name) : SharedFileName.isValid(name)
    }

    /// Applies the rules to raw bytes; valid UTF-8 is checked too.
    public static func validated(utf8 bytes: some Collection<UInt8>) -> String? {
        guard passesByteRules(bytes) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Why `path` is refused, in words for a person; nil if it is valid.
    public static func problem(with path: String) -> String? {
        let components = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if path.utf8.first == UInt8(ascii: "/") { return "an absolute path" }
        if path.utf8.count > maxBytes { return "longer than \(maxBytes) bytes" }
        if components.count > maxComponents { return "more than \(maxComponents) folders deep" }
        for component in components {
            if component.isEmpty { return "an empty component" }
            if component.elementsEqual("..".utf8) { return "a component `..`" }
            if component.first == UInt8(ascii: ".") { return "a component starting with `.`" }
            if !SharedFileName.passesByteRules(component) { return "a control character or an overlong component" }
        }
        return String(validating: path.utf8, as: UTF8.self) == nil ? "not valid UTF-8" : nil
    }

    /// Whether the valid path `path` names a file directly inside the folder.
    public static func isTopLevel(_ path: some Collection<UInt8>) -> Bool {
        !path.contains(UInt8(ascii: "/"))
    }

    /// The components of a valid path.
    public static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    static func passesByteRules(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count <= maxBytes else { return false }
        var count = 0
        for component in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            count += 1
            guard count <= maxComponents, SharedFileName.passesByteRules(component) else { return false }
        }
        return count > 0
    }
}
