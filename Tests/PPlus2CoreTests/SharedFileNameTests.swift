import Testing

@testable import PPlus2Core

@Suite("Shared-file name rules")
struct SharedFileNameTests {
    @Test(arguments: ["report.pdf", "café.txt", "a b c", "x", "name with (1).txt", "日本語.md", "a..b", "-dash", "~tilde"])
    func acceptsPlainNames(name: String) {
        #expect(SharedFileName.isValid(name))
    }

    @Test(arguments: [
        "", ".", "..", ".hidden", ".pplus2-1-1.part", "../x", "a/b", "/etc/passwd", "dir/",
        "tab\there", "new\nline", "cr\r", "nul\u{0}", "bell\u{7}", "del\u{7F}", "\u{1F}unit",
    ])
    func refusesNamesThatCouldEscapeOrHide(name: String) {
        #expect(!SharedFileName.isValid(name), "accepted \(name.debugDescription)")
    }

    @Test func limitsNamesTo255Bytes() {
        #expect(SharedFileName.isValid(String(repeating: "a", count: 255)))
        #expect(!SharedFileName.isValid(String(repeating: "a", count: 256)))
        #expect(!SharedFileName.isValid(String(repeating: "é", count: 128)))  // 256 bytes
    }

    @Test func refusesInvalidUTF8FromTheNetwork() {
        #expect(SharedFileName.validated(utf8: [0x61, 0xFF]) == nil)
        #expect(SharedFileName.validated(utf8: Array("ok.txt".utf8)) == "ok.txt")
    }
}
