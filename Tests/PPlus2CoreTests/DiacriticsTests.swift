import Foundation
import PPlus2Core
import Testing

/// Matching ignores diacritics (the contract's rule for pplus2): checked on
/// names, and against Python's `unicodedata` (NFD, then dropping combining
/// marks) on every code point of the ranges the table covers.
@Suite struct DiacriticsTests {
    @Test func accentsDoNotMatter() {
        #expect(NameMatcher(query: "cafe").matches("café-menu.txt"))
        #expect(NameMatcher(query: "CAFE").matches("Café.txt"))
        #expect(NameMatcher(query: "resume").matches("Résumé.pdf"))
        #expect(NameMatcher(query: "café").matches("cafe\u{301}.txt"))  // NFC query, NFD name
        #expect(NameMatcher(query: "cafe\u{301}").matches("café.txt"))  // and back
        #expect(NameMatcher(query: "ΑΘΗΝΑ").matches("αθήνα.jpg"))
        #expect(!NameMatcher(query: "cafe").matches("caff.txt"))
        #expect(NameMatcher(query: "straße").matches("STRASSE.md"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func agreesWithPythonsUnicodedata() throws {
        let ranges: [ClosedRange<UInt32>] = [0xC0...0x24F, 0x370...0x3FF, 0x400...0x4FF, 0x1E00...0x1EFF]
        let values = ranges.flatMap { Array($0) }.filter { Unicode.Scalar($0) != nil }
        let script = """
            import sys, unicodedata
            for line in sys.stdin:
                c = chr(int(line))
                print("".join(x for x in unicodedata.normalize("NFD", c) if not unicodedata.combining(x)).encode("unicode_escape").decode())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(values.map { "\($0)\n" }.joined().utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let expected = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(expected.count >= values.count)
        var mismatches: [String] = []
        for (value, python) in zip(values, expected) {
            let ours = NameMatcher.fold(String(Character(Unicode.Scalar(value)!)))
            let theirs = NameMatcher.fold(unescape(String(python)))
            if ours != theirs { mismatches.append(String(value, radix: 16)) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ: \(mismatches.prefix(40))")
    }

    /// Python's `unicode_escape` text back to a string (`\xe9`, `\u0301`).
    private func unescape(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var rest = Substring(text)
        while let first = rest.first {
            if first == "\\", rest.count >= 4, let kind = rest.dropFirst().first, "xuU".contains(kind) {
                let width = kind == "x" ? 2 : kind == "u" ? 4 : 8
                let hex = rest.dropFirst(2).prefix(width)
                if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                    scalars.append(scalar)
                    rest = rest.dropFirst(2 + width)
                    continue
                }
            }
            scalars.append(contentsOf: String(first).unicodeScalars)
            rest = rest.dropFirst()
        }
        return String(scalars)
    }
}
