import PPlus2Core
import PPlus2POSIX

/// The person's side of the peer: one line in, a few lines out.
///
/// A line that does not start with `/` is a query to every known peer; the
/// matches are numbered; the next line may pick one to download (an empty line
/// skips). Commands start with `/`. It works the same on a terminal and on a
/// pipe; on a pipe every listing line is exactly the contract's
/// `  3) report.pdf  [10.0.0.7:5000]`, while a terminal also gets a prompt,
/// aligned columns, colour, a cap on long listings and a live progress line.
public final class Console {
    public enum Action: Equatable {
        case proceed
        case quit
    }

    /// Matches shown on a terminal before the listing is cut (all stay pickable).
    public static let maxShownOnTerminal = 50

    private let peer: any ConsolePeer
    private let screen: ConsoleScreen
    private var listing: [Search.Match] = []
    private var isPicking = false
    /// Other copies of a file whose download just failed: Enter tries the first.
    private var retries: [Search.Match] = []

    public init(peer: any ConsolePeer, screen: ConsoleScreen) {
        self.peer = peer
        self.screen = screen
    }

    /// Reads standard input until its end or `/quit`. Returns `.quit` if asked to stop.
    public static func run(peer: any ConsolePeer, screen: ConsoleScreen) -> Action {
        let console = Console(peer: peer, screen: screen)
        var input = LineInput(fd: 0)
        console.prompt()
        while let line = input.nextLine() {
            if console.handle(line) == .quit { return .quit }
            console.prompt()
        }
        return .proceed
    }

    /// Handles one line.
    public func handle(_ line: String) -> Action {
        if !retries.isEmpty {
            let alternatives = retries
            retries = []
            if line.trimmingSpaces().isEmpty {
                download(alternatives[0], alternatives: Array(alternatives.dropFirst()))
                return .proceed
            }
        }
        switch ConsoleInput.parse(line, isPicking: isPicking) {
        case .command(let command):
            isPicking = false
            return run(command)
        case .query(let query):
            search(query)
        case .pick(let number):
            pick(number)
        case .skip:
            isPicking = false
        }
        return .proceed
    }

    private func prompt() {
        screen.showPrompt(isPicking ? "pick a number> " : retries.isEmpty ? "> " : "Enter to retry> ")
    }

    private func say(_ line: String) {
        screen.say(line)
    }

    private func error(_ line: String) {
        say(screen.paint(line, .red))
    }

    // MARK: Searching

    private func search(_ query: String) {
        isPicking = false
        guard query.utf8.count <= RequestLineReader.maxLineBytes else {
            error("the query is too long: at most \(RequestLineReader.maxLineBytes) bytes")
            return
        }
        guard peer.knownPeerCount > 0 else {
            say("no known peers yet: nothing to ask (start with --bootstrap HOST:PORT, or wait to be contacted)")
            return
        }
        show(peer.search(query, only: nil), nothing: "no matches for \"\(query)\"")
    }

    private func browse(_ address: HostPort) {
        isPicking = false
        guard let target = peer.resolve(address) else {
            error("/browse: \(address) is not a reachable peer address")
            return
        }
        show(peer.search("", only: [target]), nothing: "\(target) shares no files")
    }

    /// Lists a search's matches, numbered from 1, then who did not answer.
    private func show(_ result: Search.Result, nothing: String) {
        listing = result.matches
        var copies: [String: Int] = [:]
        for match in listing { copies[match.name, default: 0] += 1 }
        if screen.isTerminal {
            showAligned(copies: copies)
        } else {
            // Exactly the contract's form, so scripts can read it.
            for (index, match) in listing.enumerated() { say("  \(index + 1)) \(match.name)  [\(match.peer)]") }
        }
        if !result.failures.isEmpty {
            let names = result.failures.map { "\($0.peer) (\($0.failure.reason))" }.joined(separator: ", ")
            say(screen.paint("  no answer from \(names)", .red))
        }
        if result.cutMatches > 0 || result.cutIsLowerBound {
            let count = result.cutIsLowerBound ? "at least \(result.cutMatches)" : "\(result.cutMatches)"
            say("  (\(count) more matches were cut by the answer limits: narrow the query)")
        }
        let peersText = result.askedPeers == 1 ? "1 peer" : "\(result.askedPeers) peers"
        if listing.isEmpty {
            say("\(nothing) (asked \(peersText))")
        } else {
            let matchesText = listing.count == 1 ? "1 match" : "\(listing.count) matches"
            say("\(matchesText) (asked \(peersText)): type a number to download, or Enter to skip")
            isPicking = true
        }
    }

    /// A terminal's listing: numbers right-aligned, names in a column, the
    /// number of peers offering the same name, and a cap on the length.
    private func showAligned(copies: [String: Int]) {
        let shown = listing.prefix(Self.maxShownOnTerminal)
        let numberWidth = String(listing.count).count
        let nameWidth = min(shown.map(\.name.count).max() ?? 0, 48)
        for (index, match) in shown.enumerated() {
            let number = String(index + 1)
            let name = match.name + String(repeating: " ", count: max(0, nameWidth - match.name.count))
            let count = copies[match.name] ?? 1
            let note = count > 1 ? screen.paint("  (on \(count) peers)", .dim) : ""
            say(
                "  \(String(repeating: " ", count: numberWidth - number.count))\(screen.paint(number, .bold))) "
                    + "\(name)  \(screen.paint("[\(match.peer)]", .cyan))\(note)"
            )
        }
        if listing.count > shown.count {
            say(
                "  ... \(listing.count - shown.count) more not shown: narrow the query "
                    + "(any number up to \(listing.count) can be picked)"
            )
        }
    }

    // MARK: Downloading

    private func pick(_ number: Int) {
        guard (1...listing.count).contains(number) else {
            error("no match numbered \(number): choose 1-\(listing.count), or Enter to skip")
            return
        }
        isPicking = false
        let match = listing[number - 1]
        let others = listing.filter { $0.name == match.name && $0.peer != match.peer }
        download(match, alternatives: others)
    }

    /// Downloads `match`; if it fails, offers the first of `alternatives`.
    private func download(_ match: Search.Match, alternatives: [Search.Match]) {
        let started = MonotonicClock.now
        var lastDraw = started
        var drewProgress = false
        let outcome = Result { () throws(DownloadError) in
            try peer.download(match) { (bytes: Int64) in
                guard screen.isTerminal else { return }
                let now = MonotonicClock.now
                guard now - lastDraw >= 0.1 else { return }  // at most ten redraws a second
                lastDraw = now
                drewProgress = true
                let elapsed = now - started
                screen.draw(
                    "\r  \(match.name): \(Formatting.bytes(bytes))  \(Formatting.rate(bytes: bytes, seconds: elapsed))"
                        + "  \(Formatting.seconds(elapsed))\u{1B}[K"
                )
            }
        }
        if drewProgress { screen.draw("\r\u{1B}[K") }
        let elapsed = MonotonicClock.now - started
        switch outcome {
        case .success(.saved(let savedName, let bytes)):
            let renamed = savedName == match.name ? "" : " (\(match.name) already exists here)"
            say(
                screen.paint("saved \(savedName)", .green)
                    + "\(renamed): \(Formatting.bytes(bytes)) (\(bytes) bytes) in "
                    + "\(Formatting.seconds(elapsed)), \(Formatting.rate(bytes: bytes, seconds: elapsed)), "
                    + "from \(match.peer), in \(peer.sharedFolderPath)"
            )
            return
        case .success(.empty):
            error("nothing saved: \(match.name) is missing or empty at \(match.peer)")
        case .failure(let failure):
            error("download of \(match.name) from \(match.peer) failed, nothing saved: \(failure)")
        }
        if let next = alternatives.first {
            let count = alternatives.count == 1 ? "1 other peer" : "\(alternatives.count) other peers"
            say("\(match.name) is also on \(count): press Enter to try \(next.peer), or type a query")
            retries = alternatives
        }
    }

    // MARK: Commands

    private func run(_ command: ConsoleCommand) -> Action {
        switch command {
        case .peers: listPeers()
        case .files: listFiles()
        case .help: say(ConsoleCommand.summary)
        case .browse(let address): browse(address)
        case .quit: return .quit
        case .misused(let message): error(message)
        case .unknown(let name): error("unknown command \(name): type /help for the commands")
        }
        return .proceed
    }

    private func listPeers() {
        let now = MonotonicClock.now
        let ago: (Double?) -> String = { time in time.map { "\(Formatting.seconds(now - $0)) ago" } ?? "never" }
        var rows: [[String]] = [["PEER", "STATE", "LAST CONTACT", "LEARNED"]]
        let report = peer.peerReport()
        let instances = report.instanceNames
        for entry in report.entries {
            let state = entry.state == .failing ? "failing (\(entry.consecutiveFailures))" : entry.state.rawValue
            var learned = entry.origin.rawValue
            if entry.discovered && entry.origin != .discovered { learned += ", discovered" }
            if let instance = instances[entry.identity] { learned += " as \"\(instance)\"" }
            rows.append([entry.identity.description, state, ago(entry.lastContact), learned])
        }
        for dropped in report.dropped.reversed() {
            rows.append([
                dropped.identity.description, "dropped (\(dropped.reason))", ago(dropped.lastContact),
                dropped.origin.rawValue,
            ])
        }
        let known = report.entries.count
        say("this peer: \(peer.identity); \(known) known peer\(known == 1 ? "" : "s")")
        guard rows.count > 1 else { return }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column == 3 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            let line = "  " + cells.joined(separator: "  ")
            say(index == 0 ? screen.paint(line, .bold) : line)
        }
    }

    private func listFiles() {
        let files = peer.sharedFiles()
        say("\(files.count) shared file\(files.count == 1 ? "" : "s") in \(peer.sharedFolderPath)")
        let width = min(files.map(\.name.count).max() ?? 0, 48)
        for file in files {
            say(
                "  \(file.name + String(repeating: " ", count: max(0, width - file.name.count)))  \(Formatting.bytes(file.size))"
            )
        }
    }
}
