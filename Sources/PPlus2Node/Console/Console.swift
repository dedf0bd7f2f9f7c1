import PPlus2Core
import PPlus2POSIX

/// The person's side of the peer: one line in, a few lines out.
///
/// A line that does not start with `/` is a query to every known peer; the
/// matches are numbered; the next line may pick one to download (an empty line
/// skips). Commands start with `/`. Works the same on a terminal and on a
/// pipe; on a terminal it also shows a prompt and a live progress line.
public final class Console {
    public enum Action: Equatable {
        case proceed
        case quit
    }

    private let peer: Peer
    private let output: (String) -> Void
    private let isTerminal: Bool
    private var listing: [Search.Match] = []
    private var isPicking = false

    /// `output` receives whole lines (with their `\n`) or, on a terminal,
    /// progress redraws starting with `\r`.
    public init(peer: Peer, isTerminal: Bool, output: @escaping (String) -> Void) {
        self.peer = peer
        self.isTerminal = isTerminal
        self.output = output
    }

    /// Reads standard input until its end or `/quit`. Returns `.quit` if asked to stop.
    public static func run(peer: Peer) -> Action {
        let isTerminal = StandardStreams.isTerminal(0) && StandardStreams.isTerminal(1)
        let console = Console(peer: peer, isTerminal: isTerminal) { StandardStreams.write($0, to: 1) }
        var input = LineInput(fd: 0)
        if isTerminal { console.say("type a query to search every known peer, /help for commands") }
        console.showPrompt()
        while let line = input.nextLine() {
            if console.handle(line) == .quit { return .quit }
            console.showPrompt()
        }
        return .proceed
    }

    /// Handles one line.
    public func handle(_ line: String) -> Action {
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

    private func say(_ line: String) {
        output(line + "\n")
    }

    private func showPrompt() {
        if isTerminal { output(isPicking ? "pick> " : "> ") }
    }

    // MARK: Searching

    private func search(_ query: String) {
        isPicking = false
        guard query.utf8.count <= RequestLineReader.maxLineBytes else {
            say("the query is too long: at most \(RequestLineReader.maxLineBytes) bytes")
            return
        }
        guard peer.peers.count > 0 else {
            say("no known peers yet: nothing to ask (start with --bootstrap HOST:PORT, or wait to be contacted)")
            return
        }
        let result = peer.search(query)
        listing = result.matches
        // Exactly the contract's form, `  3) report.pdf  [10.0.0.7:5000]`, so scripts can read it.
        for (index, match) in listing.enumerated() {
            say("  \(index + 1)) \(match.name)  [\(match.peer)]")
        }
        for failure in result.failures {
            say("  (no answer from \(failure.peer): \(failure.reason))")
        }
        if result.cutMatches > 0 || result.cutIsLowerBound {
            let count = result.cutIsLowerBound ? "at least \(result.cutMatches)" : "\(result.cutMatches)"
            say("  (\(count) more matches were cut by the answer limits: narrow the query)")
        }
        let peersText = result.askedPeers == 1 ? "1 peer" : "\(result.askedPeers) peers"
        if listing.isEmpty {
            say("no matches for \"\(query)\" (asked \(peersText))")
        } else {
            let matchesText = listing.count == 1 ? "1 match" : "\(listing.count) matches"
            say("\(matchesText) (asked \(peersText)): type a number to download, or Enter to skip")
            isPicking = true
        }
    }

    // MARK: Downloading

    private func pick(_ number: Int) {
        guard (1...listing.count).contains(number) else {
            say("no match numbered \(number): choose 1-\(listing.count), or Enter to skip")
            return
        }
        isPicking = false
        let match = listing[number - 1]
        let started = MonotonicClock.now
        var lastDraw = started
        var drewProgress = false
        let outcome = Result { () throws(DownloadError) in
            try peer.download(match) { bytes in
                guard isTerminal else { return }
                let now = MonotonicClock.now
                guard now - lastDraw >= 0.1 else { return }
                lastDraw = now
                drewProgress = true
                let elapsed = now - started
                output(
                    "\r  \(Formatting.bytes(bytes))  \(Formatting.rate(bytes: bytes, seconds: elapsed))"
                        + "  \(Formatting.seconds(elapsed))\u{1B}[K"
                )
            }
        }
        if drewProgress { output("\r\u{1B}[K") }
        let elapsed = MonotonicClock.now - started
        switch outcome {
        case .success(.saved(let savedName, let bytes)):
            let renamed = savedName == match.name ? "" : " (\(match.name) already exists here)"
            say(
                "saved \(savedName)\(renamed): \(Formatting.bytes(bytes)) (\(bytes) bytes) in "
                    + "\(Formatting.seconds(elapsed)), \(Formatting.rate(bytes: bytes, seconds: elapsed)), "
                    + "from \(match.peer)"
            )
        case .success(.empty):
            say("nothing saved: \(match.name) is missing or empty at \(match.peer)")
        case .failure(let error):
            say("download of \(match.name) failed, nothing saved: \(error)")
        }
    }

    // MARK: Commands

    private func run(_ command: ConsoleCommand) -> Action {
        switch command {
        case .peers: listPeers()
        case .files: listFiles()
        case .help: say(ConsoleCommand.summary)
        case .quit: return .quit
        case .unknown(let text): say("unknown command \(text): type /help for the commands")
        }
        return .proceed
    }

    private func listPeers() {
        let entries = peer.peers.entries
        say("this peer: \(peer.identity); \(entries.count) known peer\(entries.count == 1 ? "" : "s")")
        let now = MonotonicClock.now
        let width = entries.map(\.identity.description.count).max() ?? 0
        for entry in entries {
            let name = entry.identity.description
            let padded = name + String(repeating: " ", count: width - name.count)
            let contact =
                entry.lastContact.map { "last contact \(Formatting.seconds(now - $0)) ago" } ?? "not contacted yet"
            let failures = entry.consecutiveFailures > 0 ? ", \(entry.consecutiveFailures) failed in a row" : ""
            say("  \(padded)  \(entry.state.rawValue)\(failures), \(entry.origin.rawValue), \(contact)")
        }
    }

    private func listFiles() {
        let files = peer.folder.offeredFiles()
        say("\(files.count) shared file\(files.count == 1 ? "" : "s") in \(peer.folder.path)")
        for file in files {
            say("  \(file.name)  \(Formatting.bytes(file.size))")
        }
    }
}
