import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// A peer the console talks to in place of a real one: scripted search
/// results and downloads, and a record of what the console asked.
final class FakeConsolePeer: ConsolePeer, Sendable {
    let identity = PeerIdentity("127.0.0.1:5000")!
    let sharedFolderPath = "/tmp/shared"
    let knownPeerCount = 3
    let peersKnownWhileYoung: Int? = nil
    /// The matches every search returns.
    let matches: [Search.Match]
    /// How each download ends, by the peer of its first copy; saved by default.
    let failures: [PeerIdentity: DownloadError]
    /// Downloads of these names wait until they are cancelled.
    let waitForCancel: Set<String>
    /// What every download reports before it ends.
    let events: [Downloader.Event]
    /// Answer lines every search refused.
    let invalidNames: Int
    /// What the console asked: the queries, and each download's copies.
    let asked = Locked((queries: [String](), downloads: [[Search.Match]]()))

    init(
        matches: [Search.Match],
        failures: [PeerIdentity: DownloadError] = [:],
        waitForCancel: Set<String> = [],
        local: [SHA256Digest: String] = [:],
        events: [Downloader.Event] = [],
        invalidNames: Int = 0
    ) {
        self.events = events
        self.invalidNames = invalidNames
        self.local = local
        self.matches = matches
        self.failures = failures
        self.waitForCancel = waitForCancel
    }

    func search(_ query: String, only: [PeerIdentity]?) -> Search.Result {
        asked.withLock { $0.queries.append(query) }
        var result = Search.Result(query: query)
        result.matches = matches
        result.invalidNames = invalidNames
        result.askedPeers = knownPeerCount
        return result
    }

    func resolve(_ address: HostPort) -> PeerIdentity? { PeerIdentity(address.description) }
    func waitForFirstContact() {}
    func keptDownloads() -> [KeptDownload] { [] }

    func download(
        _ copies: [Search.Match],
        cancellation: DownloadCancellation?,
        report: (Downloader.Event) -> Void
    ) throws(DownloadError) -> Downloader.Outcome {
        asked.withLock { $0.downloads.append(copies) }
        let first = copies[0]
        if waitForCancel.contains(first.name) {
            // 100 of 1,000 bytes at once, then nothing more: progress reported, bytes still.
            _ = waitUntil(timeout: 10) {
                report(.progress(bytes: 100, size: 1000))
                return cancellation?.isCancelled == true
            }
            throw .stopping
        }
        for event in events { report(event) }
        if let failure = failures[first.peer] { throw failure }
        report(.progress(bytes: first.size ?? 1, size: first.size))
        return .saved(savedName: first.name, bytes: first.size ?? 1, check: .unverified)
    }

    func peerReport() -> PeerReport { PeerReport(entries: [], dropped: [], instanceNames: [:]) }
    func sharedFiles() -> [SharedFolder.OfferedFile] { [] }
    func sharedSize(of name: String) -> Int64? { nil }
    /// Contents this fake peer "has", by name.
    let local: [SHA256Digest: String]
    func localNames(withContents contents: Set<SHA256Digest>) -> [SHA256Digest: String] {
        local.filter { contents.contains($0.key) }
    }
}

/// The console driven through its seam (`ConsolePeer`), without sockets or a
/// binary: listing, picking, retry after a failure, several downloads, cancel.
@Suite struct ConsoleSeamTests {
    static let a = PeerIdentity("127.0.0.2:5000")!
    static let b = PeerIdentity("127.0.0.3:5000")!
    static let digest = SHA256.hash(Array("report".utf8))

    /// A console on a pipe (or a terminal) whose lines are kept.
    static func console(_ peer: FakeConsolePeer, terminal: Bool = false) -> (Console, Locked<[String]>) {
        let output = Locked<[String]>([])
        let screen = ConsoleScreen(isTerminal: terminal, usesColour: false) { text, _ in
            output.withLock { $0 += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        }
        return (Console(peer: peer, screen: screen), output)
    }

    @Test func aQueryIsListedInTheContractsFormAndAPickDownloadsThatMatch() {
        let peer = FakeConsolePeer(matches: [
            Search.Match(name: "report.pdf", peer: Self.a, size: 1_048_576, sha256: Self.digest),
            Search.Match(name: "notes.txt", peer: Self.a),
            Search.Match(name: "report.pdf", peer: Self.b, size: 1_048_576, sha256: Self.digest),
        ])
        let (console, output) = Self.console(peer)
        #expect(console.handle("report") == .proceed)
        let lines = output.withLock { $0 }
        #expect(lines.contains("  1) report.pdf  [127.0.0.2:5000]  1048576"))
        #expect(lines.contains("  2) notes.txt  [127.0.0.2:5000]"))
        #expect(lines.contains("  3) report.pdf  [127.0.0.3:5000]  1048576"))
        #expect(peer.asked.withLock { $0.queries } == ["report"])

        _ = console.handle("1")
        let downloads = peer.asked.withLock { $0.downloads }
        // The other copy of the same content is a source of the same download.
        #expect(downloads == [[peer.matches[0], peer.matches[2]]])
        #expect(output.withLock { $0 }.contains { $0.hasPrefix("saved report.pdf: 1.0 MiB (1048576 bytes)") })
        _ = console.handle("2")
        #expect(peer.asked.withLock { $0.queries } == ["report", "2"], "one pick per listing: a new query")
    }

    @Test func aFailedDownloadOffersTheNextPeerAndEnterTriesIt() {
        let failure = DownloadError.brokeOff(Self.a, bytes: 10, .timedOut(.reading))
        let peer = FakeConsolePeer(
            matches: [
                Search.Match(name: "report.pdf", peer: Self.a, size: 100, sha256: Self.digest),
                Search.Match(name: "report.pdf", peer: Self.b, size: 100, sha256: Self.digest),
            ],
            failures: [Self.a: failure]
        )
        let (console, output) = Self.console(peer)
        _ = console.handle("report")
        _ = console.handle("1")
        let lines = output.withLock { $0 }
        #expect(lines.contains { $0.contains("failed, nothing saved: \(failure)") })
        #expect(
            lines.contains("report.pdf is also on 1 other peer: press Enter to try 127.0.0.3:5000, or type a query")
        )
        _ = console.handle("")
        #expect(peer.asked.withLock { $0.downloads.last?.first?.peer } == Self.b)
        #expect(output.withLock { $0 }.contains { $0.hasPrefix("saved report.pdf") })
    }

    /// A source caught lying during a download that the others complete:
    /// the console names it, and says nothing against the peer picked.
    @Test func theConsoleNamesTheLiarCaughtNotTheHonestPeer() {
        let why = "sent piece 2 of 6 of report.pdf unlike the piece list it announced"
        let peer = FakeConsolePeer(
            matches: [
                Search.Match(name: "report.pdf", peer: Self.a, size: 100, sha256: Self.digest),
                Search.Match(name: "report.pdf", peer: Self.b, size: 100, sha256: Self.digest),
            ],
            events: [.sources(2), .repairing(pieces: 2), .caught(Self.b, why: why)]
        )
        let (console, output) = Self.console(peer)
        _ = console.handle("report")
        _ = console.handle("1")
        let lines = output.withLock { $0 }
        #expect(lines.contains("127.0.0.3:5000 \(why): it is not asked again in this run (/peers)"), "\(lines)")
        #expect(lines.contains("2 pieces of the kept report.pdf did not match: fetching them again"), "\(lines)")
        #expect(!lines.contains { $0.contains("127.0.0.2:5000") && $0.contains("not asked again") })
        #expect(lines.contains { $0.hasPrefix("saved report.pdf") })
    }

    /// `/browse HOST:PORT FOLDER` numbers the files directly in it and names
    /// its sub-folders; `/download-folder` downloads every file under it.
    @Test func aFolderIsBrowsedAndDownloadedWhole() {
        let names = ["lab/syllabus.txt", "lab/week1/ex1.py", "lab/week2/ex2.py", "lab/week2/extra/n.md", "lab2/x.txt"]
        let peer = FakeConsolePeer(
            matches: names.map { Search.Match(name: $0, peer: Self.a, size: 10, sha256: SHA256.hash(Array($0.utf8))) }
        )
        let (console, output) = Self.console(peer)
        _ = console.handle("/browse 127.0.0.2:5000 lab")
        let lines = output.withLock { $0 }
        #expect(peer.asked.withLock { $0.queries } == ["lab/"])
        #expect(lines.contains("  1) lab/syllabus.txt  [127.0.0.2:5000]  10"), "\(lines)")
        #expect(!lines.contains { $0.contains("ex1.py") })
        #expect(lines.contains("  folders in lab: week1/ (1 file), week2/ (2 files)"), "\(lines)")
        _ = console.handle("1")
        #expect(peer.asked.withLock { $0.downloads.last?.first?.name } == "lab/syllabus.txt")

        _ = console.handle("/download-folder 127.0.0.2:5000 lab")
        let fetched = peer.asked.withLock { $0.downloads.dropFirst().map { $0[0].name } }
        #expect(fetched == Array(names.prefix(4)), "every file under lab/, not lab2/")
        #expect(
            output.withLock { $0 }.contains("downloading lab: 4 files, 40 B from 127.0.0.2:5000"),
            "\(output.withLock { $0 })"
        )
    }

    /// Four downloads with long and wide names share an 80-column status
    /// line: each keeps its number and its percentage, none is cut off.
    @Test func aStatusLineOfFourDownloadsFitsTheTerminal() {
        let peer = FakeConsolePeer(matches: [])
        let screen = ConsoleScreen(isTerminal: false, usesColour: false) { _, _ in }
        let names = ["dataset 2025 (raw) – 大きい.bin", "big-video-of-the-lab-meeting.mkv", "zeros-D.img", "photos.tar"]
        let running = names.enumerated().map { index, name in
            let match = Search.Match(name: name, peer: Self.a, size: 1000, sha256: nil)
            let job = DownloadJob(match: match, alternatives: [], peer: peer, screen: screen, retries: Locked([]))
            var item = DownloadJobs.Running(number: index + 8, job: job, started: 0)
            item.bytes = 420
            item.size = 1000
            item.lastGrowth = 9.5
            return item
        }
        let line = DownloadJobs.statusLine(running, now: 10, width: 79)
        #expect(DisplayWidth.of(line) <= 79, "\(line)")
        #expect(
            (8...11).allSatisfy { line.contains("[\($0)] ") } && line.components(separatedBy: "42%").count == 5,
            "\(line)"
        )
        let one = DownloadJobs.statusLine([running[2]], now: 10, width: 79)
        #expect(one.hasPrefix("[10] zeros-D.img: 420 B of 1000 B (42%)"), "one download: in full: \(one)")
    }

    @Test func namesRefusedFromTheNetworkAreSaidOnALine() {
        let peer = FakeConsolePeer(matches: [], invalidNames: 3)
        let (console, output) = Self.console(peer)
        _ = console.handle("x")
        #expect(output.withLock { $0 }.contains { $0.hasPrefix("  3 names were refused: not a valid name or path") })
    }

    @Test func aTerminalRunsDownloadsBesideItAndCancelsOneByItsNumber() {
        let peer = FakeConsolePeer(
            matches: [Search.Match(name: "big.iso", peer: Self.a), Search.Match(name: "small.txt", peer: Self.b)],
            waitForCancel: ["big.iso"]
        )
        let (console, output) = Self.console(peer, terminal: true)
        _ = console.handle("iso")
        _ = console.handle("1")
        _ = console.handle("iso")
        _ = console.handle("2")
        #expect(waitUntil(timeout: 5) { output.withLock { $0 }.contains { $0.hasPrefix("saved small.txt") } })
        #expect(!output.withLock { $0 }.contains { $0.contains("big.iso cancelled") })
        // Nothing arrives: the status line says so.
        #expect(
            waitUntil(timeout: 6) {
                output.withLock { $0 }.contains { $0.contains("big.iso: 100 B of 1000 B (10%)  stalled") }
            }
        )
        _ = console.handle("/cancel 1")
        #expect(
            waitUntil(timeout: 5) { output.withLock { $0 }.contains { $0.contains("download of big.iso cancelled") } }
        )
        #expect(peer.asked.withLock { $0.downloads.count } == 2)
    }
}

/// The README's rule for parsing a listing line on a pipe, from the right,
/// holds for a name that imitates the columns.
@Suite struct ListingParseTests {
    /// The README's rule: the number at the start; then from the right the
    /// size (two spaces and digits after the last `]`), the last `  [A.B.C.D:P]`.
    static func parse(_ line: String) -> (number: Int, name: String, peer: String, size: Int64?)? {
        guard let close = line.firstIndex(of: ")"), let number = Int(line[..<close].drop { $0 == " " }),
            let bracket = line.range(of: "  [", options: .backwards), let end = line.range(of: "]", options: .backwards)
        else { return nil }
        let tail = line[end.upperBound...]
        let size = tail.hasPrefix("  ") ? Int64(tail.dropFirst(2)) : nil
        guard tail.isEmpty || size != nil else { return nil }
        let name = String(line[line.index(close, offsetBy: 2)..<bracket.lowerBound])
        return (number, name, String(line[bracket.upperBound..<end.lowerBound]), size)
    }

    @Test func aNameImitatingTheColumnsStillParsesFromTheRight() {
        let spoof = "spoof.pdf  [127.0.0.4:5000]  1048576"
        let peer = FakeConsolePeer(matches: [
            Search.Match(name: spoof, peer: ConsoleSeamTests.a, size: 7, sha256: nil),
            Search.Match(name: spoof, peer: ConsoleSeamTests.b),
        ])
        let (console, output) = ConsoleSeamTests.console(peer)
        _ = console.handle("spoof")
        let lines = output.withLock { $0 }.filter { $0.hasPrefix("  1)") || $0.hasPrefix("  2)") }
        #expect(lines.count == 2)
        let first = lines.first.flatMap(Self.parse)
        #expect(first?.name == spoof && first?.peer == "127.0.0.2:5000" && first?.size == 7)
        let second = lines.last.flatMap(Self.parse)
        #expect(second?.name == spoof && second?.peer == "127.0.0.3:5000" && second?.size == nil)
    }
}

/// Issue 24 through the seam: words in any order, several picks, the same
/// content recognised.
@Suite struct ConsoleLibraryTests {
    static let a = PeerIdentity("127.0.0.2:5000")!

    @Test func wordsInAnyOrderAskTheLongestWordAndKeepNamesHoldingAll() {
        let peer = FakeConsolePeer(matches: [
            Search.Match(name: "Final-Report.pdf", peer: Self.a),
            Search.Match(name: "report-draft.pdf", peer: Self.a),
            Search.Match(name: "final report (old).txt", peer: Self.a),
        ])
        let (console, output) = ConsoleSeamTests.console(peer)
        _ = console.handle("report final")
        #expect(peer.asked.withLock { $0.queries } == ["report"])
        let lines = output.withLock { $0 }
        #expect(lines.contains("  1) Final-Report.pdf  [127.0.0.2:5000]"))
        #expect(lines.contains("  2) final report (old).txt  [127.0.0.2:5000]"))
        #expect(!lines.contains { $0.contains("report-draft") })
        _ = console.handle("\"report (old)\" FINAL")
        #expect(peer.asked.withLock { $0.queries.last } == "report (old)")
        _ = console.handle("report final missing")
        #expect(output.withLock { $0 }.contains { $0.contains("no name holds all 3 words (try fewer words)") })
    }

    @Test func severalPicksDownloadEachAsIfPickedAlone() {
        let matches = (1...9).map { Search.Match(name: "photo-\($0).jpg", peer: Self.a) }
        let peer = FakeConsolePeer(matches: matches)
        let (console, _) = ConsoleSeamTests.console(peer)
        _ = console.handle("photo")
        _ = console.handle("1 3, 5-8")
        let names = peer.asked.withLock { $0.downloads.map { $0[0].name } }
        #expect(names == ["photo-1.jpg", "photo-3.jpg", "photo-5.jpg", "photo-6.jpg", "photo-7.jpg", "photo-8.jpg"])
    }

    @Test func aContentThatIsHereAlreadyIsNotDownloadedUnlessPickedAgain() {
        let digest = SHA256.hash(Array("report".utf8))
        let peer = FakeConsolePeer(
            matches: [Search.Match(name: "report-final.txt", peer: Self.a, size: 6, sha256: digest)],
            local: [digest: "report-final (1).txt"]
        )
        let (console, output) = ConsoleSeamTests.console(peer)
        _ = console.handle("report")
        _ = console.handle("1")
        #expect(peer.asked.withLock { $0.downloads }.isEmpty)
        #expect(output.withLock { $0 }.contains { $0.contains("is here already as report-final (1).txt") })
        _ = console.handle("1")
        #expect(peer.asked.withLock { $0.downloads.count } == 1, "a second pick downloads a copy")
    }
}

/// A terminal's listing pads names by display columns, not characters.
@Suite struct WideNameTests {
    @Test func wideCharactersCountTwoColumns() {
        let peer = FakeConsolePeer(matches: [
            Search.Match(name: "報告書 118.pdf", peer: ConsoleLibraryTests.a),
            Search.Match(name: "report-1180.pdf", peer: ConsoleLibraryTests.a),
        ])
        let (console, output) = ConsoleSeamTests.console(peer, terminal: true)
        _ = console.handle("1")
        let rows = output.withLock { $0 }.filter { $0.contains("[127.0.0.2:5000]") }
        #expect(rows.count == 2)
        // The peer column starts at the same display column on both rows.
        let columns = rows.map { row in DisplayWidth.of(String(row[..<row.range(of: "[127.0.0.2:5000]")!.lowerBound])) }
        #expect(Set(columns).count == 1, "\(rows)")
    }
}
