import Foundation
import PPlus2Core
import Testing

/// The option table is the one source of `--help`; the README's table and the
/// man page are written by hand and must say the same.
@Suite struct OptionTableTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private func text(_ path: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The README's options table: synopsis to default, one entry per option.
    private func readmeRows() throws -> [String: String] {
        let readme = try text("README.md")
        let section = try #require(readme.components(separatedBy: "## Options").dropFirst().first)
            .components(separatedBy: "\n## ")[0]
        var rows: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let defaultValue = cells[3].replacingOccurrences(of: "`", with: "")
            for synopsis in cells[1].components(separatedBy: ", ") {
                rows[synopsis.replacingOccurrences(of: "`", with: "")] = defaultValue
            }
        }
        return rows
    }

    @Test func theReadmeTableHasEveryOptionWithItsDefault() throws {
        let rows = try readmeRows()
        #expect(Set(rows.keys) == Set(OptionTable.options.map(\.synopsis)))
        for option in OptionTable.options {
            #expect(rows[option.synopsis] == (option.defaultValue ?? ""), "README default of \(option.name)")
        }
    }

    @Test func theManPageHasEveryOptionAndItsSimpleDefaults() throws {
        let page = try text("share/man/man1/pplus2.1").replacingOccurrences(of: "\\-", with: "-")
        let options = try #require(page.components(separatedBy: ".SH OPTIONS\n").dropFirst().first)
            .components(separatedBy: "\n.SH ")[0]
        let entries = options.components(separatedBy: ".TP\n").dropFirst().compactMap { entry -> (String, String)? in
            let lines = entry.split(separator: "\n", maxSplits: 1).map(String.init)
            guard lines.count == 2, lines[0].hasPrefix(".B") else { return nil }
            let synopsis = lines[0].dropFirst(lines[0].hasPrefix(".BI") ? 4 : 3).replacingOccurrences(
                of: "\"",
                with: ""
            )
            return (synopsis.split(separator: " ").joined(separator: " "), lines[1])
        }
        let manual = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        #expect(Set(manual.keys) == Set(OptionTable.options.map(\.synopsis)))
        for option in OptionTable.options {
            guard case .value = option.kind, let value = option.defaultValue, !value.contains(" ") else { continue }
            let paragraph = (manual[option.synopsis] ?? "").replacingOccurrences(of: "\\fI", with: "")
                .replacingOccurrences(of: "\\fR", with: "")
            #expect(paragraph.contains("Default \(value)"), "man page default of \(option.name)")
        }
    }

    @Test func helpAndUsageComeFromTheTable() {
        for option in OptionTable.options {
            #expect(Options.help.contains(option.synopsis))
            #expect(Options.help.contains(String(option.meaning.prefix(20))))
            #expect(Options.usage.contains("[\(option.synopsis)]"))
        }
        #expect(Options.help.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }
}
