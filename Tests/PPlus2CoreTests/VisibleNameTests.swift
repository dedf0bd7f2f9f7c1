import PPlus2Core
import Testing

@Suite struct VisibleNameTests {
    @Test func bidiAndFormatControlsBecomeVisible() {
        #expect(VisibleName.text("invoice-\u{202E}gpj.exe") == "invoice-<U+202E>gpj.exe")
        #expect(VisibleName.text("a\u{200B}b\u{2066}c\u{FEFF}") == "a<U+200B>b<U+2066>c<U+FEFF>")
        for value: UInt32 in [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x2066, 0x2069] {
            let scalar = Unicode.Scalar(value)!
            #expect(!VisibleName.text("x\(Character(scalar))").unicodeScalars.contains(scalar))
        }
    }

    @Test func ordinaryNamesAreUntouched() {
        for name in ["report.pdf", "café-menu.txt", "日本語.md", "emoji-😀.png", "cafe\u{301}.txt"] {
            #expect(VisibleName.text(name) == name)
        }
    }

    @Test func lineBreaksAndInvisibleCharactersBecomeVisible() {
        #expect(VisibleName.text("a\u{2028}b\u{2029}c") == "a<U+2028>b<U+2029>c")
        #expect(VisibleName.text("x\u{3164}y\u{115F}z") == "x<U+3164>y<U+115F>z")
        #expect(VisibleName.text("n\u{85}el") == "n<U+0085>el")
        // What is shown holds no Unicode line break at all: one listing line stays one.
        let shown = VisibleName.text("spoof\u{2028}\u{2029}\u{85}\u{B}\u{C}.pdf")
        #expect(shown.split(whereSeparator: \.isNewline).count == 1)
    }
}
