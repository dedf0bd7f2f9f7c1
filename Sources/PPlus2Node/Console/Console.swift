import PPlus2Core
import PPlus2POSIX

/// The person's side of the peer: one line in, a few lines out.
///
/// A line that does not start with `/` is a query to every known peer; the
/// matches are numbered; the next line may pick one to download (an empty line
/// skips). Commands start with `/`. It works the same on a terminal and on a
/// pipe; on a pipe every listing line is exactly the contract's
/// `  3) report.pdf  [10.0.0.7:5000]`, with two spaces and the size in bytes
/// when the peer told it, one line per copy; a terminal also gets a prompt,
/// aligned columns, sizes in human units, copies of one content grouped as one
/// entry, colour, a cap on long listings and a live progress line.
public final class Console {
    public enum Action: Equatable {
        case proceed
        case quit
    }

    /// Matches shown on a terminal before the listing is cut (all stay pickable).
    public static let maxShownOnTerminal = 50

    let peer: any ConsolePeer
    let screen: ConsoleScreen
    /// What the numbers of the last listing pick: on a pipe one copy each, on
    /// a terminal the copies of one content (same size and SHA-256) together.
    var entries: [[Search.Match]] = []
    /// Every match of the last listing, for finding other copies.
    var listing: [Search.Match] = []
    /// How many entries of the last listing a terminal has shown (for `/more`).
    var shownUpTo = 0
    var isPicking = false
    /// Contents of the last listing this peer already has, by SHA-256: the local name.
    var localCopies: [SHA256Digest: String] = [:]
    /// Numbers picked once although their content is here: picked again, they download.
    var copyAsked: Set<Int> = []
    /// Other copies of a file whose download just failed: Enter tries the first
    /// (set by the download, which may run on its own thread).
    let retries = Locked<[Search.Match]>([])
    /// The downloads running beside a terminal's console.
    let jobs: DownloadJobs
    /// The line editor's history, kept across runs (a terminal's console only).
    var history: ConsoleHistory?
    /// The peers that did not answer the last search, for `/peers`.
    var lastSearchFailures: [(peer: PeerIdentity, failure: Search.Failure)] = []

    public init(peer: any ConsolePeer, screen: ConsoleScreen) {
        self.peer = peer
        self.screen = screen
        jobs = DownloadJobs(screen: screen)
        screen.setQuitReport { [jobs] in jobs.stopAll(within: 3) }
    }

    /// Reads standard input until its end or `/quit`. Returns `.quit` if asked
    /// to stop. On a terminal, through the line editor (`runEditing`).
    public static func run(peer: any ConsolePeer, screen: ConsoleScreen) -> Action {
        let console = Console(peer: peer, screen: screen)
        if screen.isTerminal, let action = console.runEditing() { return action }
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
        let alternatives = retries.withLock { retries in
            defer { retries = [] }
            return retries
        }
        if let next = alternatives.first, line.trimmingSpaces().isEmpty {
            download(next, alternatives: Array(alternatives.dropFirst()))
            return .proceed
        }
        switch ConsoleInput.parse(line, isPicking: isPicking) {
        case .command(let command):
            isPicking = false
            return run(command)
        case .query(let query):
            search(query)
        case .pick(let number):
            pick([number])
        case .picks(let numbers):
            pick(numbers)
        case .skip:
            isPicking = false
        }
        return .proceed
    }

    func prompt() {
        let retrying = !retries.withLock { $0.isEmpty }
        screen.showPrompt(isPicking ? "pick a number> " : retrying ? "Enter to retry> " : "> ")
    }

    func say(_ line: String) {
        screen.say(line)
    }

    func error(_ line: String) {
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
        peer.waitForFirstContact()
        // Several words: peers are asked for the longest, the names that hold them all are kept.
        let words = QueryWords(query)
        var result = peer.search(words.wireQuery, only: nil)
        result.matches = result.matches.filter { words.matches($0.name) }
        let nothing =
            words.isSeveral
            ? "no matches for \"\(query)\": no name holds all \(words.words.count) words (try fewer words)"
            : "no matches for \"\(query)\""
        show(result, nothing: nothing)
    }

    /// `/browse HOST:PORT [FOLDER]`: every file of one peer; with a folder,
    /// its files numbered like a search, and its sub-folders named below.
    private func browse(_ address: HostPort, folder: String?) {
        isPicking = false
        guard let target = peer.resolve(address) else {
            error("/browse: \(address) is not a reachable peer address")
            return
        }
        guard let folder else { return show(peer.search("", only: [target]), nothing: "\(target) shares no files") }
        var result = peer.search(folder + "/", only: [target])
        let inside = FolderListing(result.matches, in: folder)
        result.matches = inside.files
        show(
            result,
            nothing: inside.folders.isEmpty
                ? "\(target) has no folder \(VisibleName.text(folder))"
                : "no file directly in \(VisibleName.text(folder))"
        )
        if !inside.folders.isEmpty {
            let named = inside.folders.map {
                "\(VisibleName.text($0.name))/ (\($0.files) file\($0.files == 1 ? "" : "s"))"
            }
            say("  folders in \(VisibleName.text(folder)): " + named.joined(separator: ", "))
            say(
                "  (/browse \(address) \(VisibleName.text(folder))/NAME looks inside one; /download-folder \(address) \(VisibleName.text(folder)) fetches it all)"
            )
        }
    }

    /// `/resume [N]`: the kept downloads, numbered as the start summary and
    /// `/downloads` list them; with N, that one is asked of every known peer
    /// (by the last component of its name) and resumed from the copies of its
    /// content (its size and SHA-256), as if picked again.
    private func resume(_ number: Int?) {
        isPicking = false
        let kept = peer.keptDownloads()
        guard let number else {
            let lines = StartupText.keptLines(kept)
            return say(lines.isEmpty ? "no download is kept to resume" : lines.joined(separator: "\n"))
        }
        guard kept.indices.contains(number - 1), let content = kept[number - 1].content else {
            return error("no kept download numbered \(number): /resume lists them")
        }
        let download = kept[number - 1]
        let leaf = Folder.split(download.name).leaf
        peer.waitForFirstContact()
        let copies = peer.search(leaf, only: nil).matches.filter { $0.sha256 == content && $0.size == download.size }
        guard let first = copies.first else {
            return error(
                "no known peer offers \(VisibleName.text(download.name)) now (its SHA-256 \(content.prefix)…): it stays kept; /resume \(number) again later"
            )
        }
        self.download(first, alternatives: Array(copies.dropFirst()))
    }

    /// `/download-folder HOST:PORT FOLDER`: every file under the folder, each
    /// a download of its own (verified, resumable, queued past the running
    /// ones), saved under the same path here.
    private func downloadFolder(_ address: HostPort, folder: String) {
        isPicking = false
        guard let target = peer.resolve(address) else {
            error("/download-folder: \(address) is not a reachable peer address")
            return
        }
        let result = peer.search(folder + "/", only: [target])
        let files = result.matches.filter { $0.name.hasPrefix(folder + "/") }
        if let failure = result.failures.first {
            return error("/download-folder: no answer from \(failure.peer) (\(failure.failure.reason))")
        }
        guard !files.isEmpty else { return error("\(target) has no file in a folder \(VisibleName.text(folder))") }
        let bytes = files.reduce(Int64(0)) { $0 + ($1.size ?? 0) }
        let cut =
            result.cutMatches > 0 || result.cutIsLowerBound
            ? " (the answer was cut: /download-folder again for the rest)" : ""
        say(
            "downloading \(VisibleName.text(folder)): \(files.count) file\(files.count == 1 ? "" : "s"), \(Formatting.bytes(bytes)) from \(target)\(cut)"
        )
        for file in files { download(file, alternatives: []) }
    }

    /// Lists a search's matches, numbered from 1, then who did not answer.
    func show(_ result: Search.Result, nothing: String) {
        listing = result.matches
        localCopies = peer.localNames(withContents: Set(listing.compactMap(\.sha256)))
        copyAsked = []
        entries = screen.isTerminal ? Self.groupedByContent(listing) : listing.map { [$0] }
        if screen.isTerminal {
            showAligned()
        } else {
            // Exactly the contract's form, so scripts can read it.
            for (index, match) in listing.enumerated() { say(Self.pipeLine(number: index + 1, match)) }
        }
        lastSearchFailures = result.failures
        if !result.failures.isEmpty {
            // A few are named; many are one short line, and /peers has them all.
            let named = result.failures.prefix(3).map { "\($0.peer) (\($0.failure.reason))" }.joined(separator: ", ")
            let line =
                result.failures.count <= 3
                ? "  no answer from \(named)"
                : "  \(result.failures.count) peers did not answer (\(named), ...): /peers shows them"
            say(screen.paint(line, .red))
        }
        if result.invalidNames > 0 {
            let count = result.invalidNames == 1 ? "1 name was" : "\(result.invalidNames) names were"
            say(
                screen.paint(
                    "  \(count) refused: not a valid name or path (`..`, absolute, hidden, a control character, too deep); never listed, never written",
                    .red
                )
            )
        }
        if result.cutMatches > 0 || result.cutIsLowerBound {
            let count = result.cutIsLowerBound ? "at least \(result.cutMatches)" : "\(result.cutMatches)"
            say("  (\(count) more matches were cut by the answer limits: narrow the query)")
        }
        let peersText = result.askedPeers == 1 ? "1 peer" : "\(result.askedPeers) peers"
        if let known = peer.peersKnownWhileYoung {
            let growing = "\(known) peer\(known == 1 ? "" : "s") known so far"
            say(screen.paint("  (\(growing): the peer list is still growing, one contact per gossip interval)", .dim))
        }
        if listing.isEmpty {
            // Nobody answered: the line above said so; "no matches" would contradict it.
            if result.failures.count < result.askedPeers { say("\(nothing) (asked \(peersText))") }
        } else {
            let matchesText = entries.count == 1 ? "1 match" : "\(entries.count) matches"
            say("\(matchesText) (asked \(peersText)): type a number to download, or Enter to skip")
            isPicking = true
        }
    }

    // MARK: Commands

    private func run(_ command: ConsoleCommand) -> Action {
        switch command {
        case .peers: listPeers()
        case .files: listFiles()
        case .help: say(ConsoleCommand.summary)
        case .browse(let address, let folder): browse(address, folder: folder)
        case .downloadFolder(let address, let folder): downloadFolder(address, folder: folder)
        case .resume(let number): resume(number)
        case .more:
            if screen.isTerminal { showMore() } else { say("/more pages a terminal's listing; a pipe gets every line") }
        case .downloads:
            let lines = jobs.report()
            say(lines.isEmpty ? "no download is running" : lines.joined(separator: "\n"))
            for line in StartupText.keptLines(peer.keptDownloads()) { say(line) }
        case .cancel(let number):
            if let cancelled = jobs.cancel(number) {
                say("cancelling \(cancelled)")
            } else {
                error(number.map { "no download numbered \($0): /downloads lists them" } ?? "no download is running")
            }
        case .quit: return .quit
        case .misused(let message): error(message)
        case .unknown(let name): error("unknown command \(name): type /help for the commands")
        }
        return .proceed
    }
}
