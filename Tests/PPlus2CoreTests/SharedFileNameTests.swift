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
        "csi\u{9B}2J", "c1-first\u{80}", "c1-last\u{9F}", "nel\u{85}.txt",
    ])
    func refusesNamesThatCouldEscapeOrHide(name: String) {
        #expect(!SharedFileName.isValid(name), "accepted \(name.debugDescription)")
    }

    @Test func keepsTheCharactersNextToTheC1Block() {
        // U+00A0 (C2 A0) and U+007E are not controls; U+0100 (C4 80) has an 80 tail, not after C2.
        #expect(SharedFileName.isValid("nbsp\u{A0}tilde~\u{100}"))
        #expect(SharedFileName.validated(utf8: [0x61, 0xC2, 0x9B, 0x62]) == nil)
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
