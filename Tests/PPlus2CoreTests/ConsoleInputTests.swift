import Testing

@testable import PPlus2Core

@Suite("Console input")
struct ConsoleInputTests {
    @Test func linesAreQueriesUnlessTheyStartWithASlash() {
        #expect(ConsoleInput.parse("report", isPicking: false) == .query("report"))
        #expect(ConsoleInput.parse(" two words ", isPicking: false) == .query(" two words "))
        #expect(ConsoleInput.parse("", isPicking: false) == .query(""))
        #expect(ConsoleInput.parse("3", isPicking: false) == .query("3"))
        #expect(ConsoleInput.parse("/peers", isPicking: false) == .command(.peers))
        #expect(ConsoleInput.parse("/files", isPicking: true) == .command(.files))
        #expect(ConsoleInput.parse("/help", isPicking: false) == .command(.help))
        #expect(ConsoleInput.parse("/quit", isPicking: false) == .command(.quit))
        #expect(ConsoleInput.parse("/nope x", isPicking: false) == .command(.unknown("/nope")))
        #expect(
            ConsoleInput.parse("/browse 10.0.0.7:5000", isPicking: false)
                == .command(.browse(HostPort("10.0.0.7:5000")!, folder: nil))
        )
        #expect(
            ConsoleInput.parse("/browse peer.lan:5000 ", isPicking: true)
                == .command(.browse(HostPort("peer.lan:5000")!, folder: nil))
        )
        // A folder: the rest of the line, spaces kept, a trailing slash dropped.
        #expect(
            ConsoleInput.parse("/browse peer.lan:5000  Album 3/Disc  1/", isPicking: false)
                == .command(.browse(HostPort("peer.lan:5000")!, folder: "Album 3/Disc  1"))
        )
        #expect(
            ConsoleInput.parse("/download-folder 10.0.0.7:5000 lab", isPicking: true)
                == .command(.downloadFolder(HostPort("10.0.0.7:5000")!, folder: "lab"))
        )
    }

    @Test(arguments: [
        "/browse", "/browse x", "/browse 1.2.3.4:0", "/browse a:1 ../up", "/browse a:1 /etc", "/download-folder a:1",
        "/download-folder a:1 .git", "/download-folder lab", "/peers now", "/quit 1", "/files x", "/help me",
        "/resume x", "/resume 0", "/resume 1 2",
    ])
    func commandsWithWrongArgumentsSayHow(line: String) {
        guard case .command(.misused(let message)) = ConsoleInput.parse(line, isPicking: false) else {
            Issue.record("\(line) was not refused")
            return
        }
        #expect(message.contains(line.split(separator: " ").first!))
    }

    @Test func afterAListingANumberPicksAndAnEmptyLineSkips() {
        #expect(ConsoleInput.parse("2", isPicking: true) == .pick(2))
        #expect(ConsoleInput.parse(" 12 ", isPicking: true) == .pick(12))
        #expect(ConsoleInput.parse("", isPicking: true) == .skip)
        #expect(ConsoleInput.parse("  ", isPicking: true) == .skip)
        #expect(ConsoleInput.parse("2a", isPicking: true) == .query("2a"))
        // Right after a listing, what can only be a mistyped number picks (and is refused there).
        #expect(ConsoleInput.parse("-1", isPicking: true) == .pick(-1))
        #expect(ConsoleInput.parse("0", isPicking: true) == .pick(0))
        #expect(ConsoleInput.parse("-", isPicking: true) == .query("-"))
        #expect(ConsoleInput.parse("-1", isPicking: false) == .query("-1"))
        #expect(ConsoleInput.parse("2024", isPicking: false) == .query("2024"))
        #expect(ConsoleInput.parse("/more", isPicking: true) == .command(.more))
        #expect(ConsoleInput.parse("/cancel", isPicking: false) == .command(.cancel(nil)))
        #expect(ConsoleInput.parse("/cancel 2", isPicking: false) == .command(.cancel(2)))
        #expect(
            ConsoleInput.parse("/cancel x", isPicking: false)
                == .command(.misused("usage: /cancel [N], N a number of /downloads"))
        )
        #expect(
            ConsoleInput.parse("/downloads now", isPicking: false) == .command(.misused("/downloads takes no argument"))
        )
        #expect(ConsoleInput.parse("99999999999999999999", isPicking: true) == .query("99999999999999999999"))
    }
}

@Suite("Formatting")
struct FormattingTests {
    @Test func formatsSizesAndTimes() {
        #expect(Formatting.bytes(0) == "0 B")
        #expect(Formatting.bytes(1023) == "1023 B")
        #expect(Formatting.bytes(1536) == "1.5 KiB")
        #expect(Formatting.bytes(3 << 30) == "3.0 GiB")
        #expect(Formatting.seconds(0.256) == "0.26 s")
        #expect(Formatting.seconds(12.34) == "12.3 s")
        #expect(Formatting.seconds(185) == "3 min 05 s")
        #expect(Formatting.decimal(-0.04, places: 1) == "0.0")
        #expect(Formatting.decimal(2.05, places: 2) == "2.05")
    }
}

@Suite struct SeveralPicksTests {
    @Test func numbersAndRangesWithSpacesOrCommas() {
        #expect(ConsoleInput.parse("1 3 5-8", isPicking: true) == .picks([1, 3, 5, 6, 7, 8]))
        #expect(ConsoleInput.parse("2,4", isPicking: true) == .picks([2, 4]))
        #expect(
            ConsoleInput.parse("3-3", isPicking: true) == .picks([3])
                || ConsoleInput.parse("3-3", isPicking: true) == .query("3-3")
        )
        #expect(ConsoleInput.parse("5-2", isPicking: true) == .query("5-2"), "a descending range is a query")
        #expect(ConsoleInput.parse("1 3", isPicking: false) == .query("1 3"), "not right after a listing")
        #expect(ConsoleInput.parse("1 x", isPicking: true) == .query("1 x"))
        #expect(ConsoleInput.parse("1-2000", isPicking: true) == .query("1-2000"), "at most 1000 picks")
    }

    @Test func queryWords() {
        #expect(QueryWords("report final").words == ["report", "final"])
        #expect(QueryWords("\"annual report\" 2025").words == ["annual report", "2025"])
        #expect(QueryWords("report").words == ["report"] && !QueryWords("report").isSeveral)
        #expect(QueryWords(" spaced ").words == [" spaced "], "one word: the plain rule, as typed")
        #expect(QueryWords("report final").matches("Final-Report.pdf"))
        #expect(QueryWords("resume CAFE").matches("Café Résumé.pdf"))
        #expect(!QueryWords("report final").matches("report.pdf"))
        #expect(QueryWords("a bbb cc").wireQuery == "bbb")
    }
}
