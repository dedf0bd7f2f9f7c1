import PPlus2Core
import PPlus2POSIX

// Picking a match and downloading it. On a pipe the download runs in the
// console's thread, so a script sees its result line before its next line is
// read (the contract's console section). On a terminal it runs beside the
// console (`DownloadJobs`): the prompt stays, progress shows on the status
// line, and `/downloads`, `/cancel` and Ctrl-C reach it. After a failure,
// Enter goes on from the next peer that offers the same content (or, for a
// plain peer's file, the same name).

extension Console {
    /// Downloads the matches numbered `numbers`, each as if picked alone. A
    /// match whose content is here already (the same SHA-256) is not
    /// downloaded: picked again, it is (for whoever wants a copy).
    func pick(_ numbers: [Int]) {
        if let wrong = numbers.first(where: { entries.isEmpty || !(1...entries.count).contains($0) }) {
            let range = entries.count == 1 ? "1" : "1 to \(entries.count)"
            error("no match numbered \(wrong): type \(range), several as 1 3 5-8, or Enter to skip")
            return
        }
        isPicking = false
        for number in numbers {
            let match = entries[number - 1][0]
            if let content = match.sha256, let mine = localCopies[content], !copyAsked.contains(number) {
                say(
                    "\(VisibleName.text(match.name)) is here already as \(VisibleName.text(mine)) (the same SHA-256): not downloaded; pick \(number) again for a copy"
                )
                copyAsked.insert(number)
                isPicking = true
                continue
            }
            download(match, alternatives: alternatives(to: match))
        }
    }

    /// The other copies worth trying after `match`: the same content where it
    /// is known; else the same name (a plain peer cannot say more).
    func alternatives(to match: Search.Match) -> [Search.Match] {
        let liars = peer.peerReport().liars
        return listing.filter { other in
            guard other.peer != match.peer, liars[other.peer] == nil else { return false }
            if match.sha256 != nil { return other.hasSameContent(as: match) }
            return other.sha256 == nil && Array(other.name.utf8) == Array(match.name.utf8)
        }
    }

    /// Downloads `match`; if it fails, offers the first of `alternatives`.
    func download(_ match: Search.Match, alternatives: [Search.Match]) {
        let job = DownloadJob(match: match, alternatives: alternatives, peer: peer, screen: screen, retries: retries)
        // Other copies of the same content are sources of the same download (`Downloader.download(copies:)`).
        guard screen.isTerminal else { return jobs.runHere(job) }
        switch jobs.start(job) {
        case .running: break
        case .queued(let ahead):
            say("\(VisibleName.text(match.name)): queued, starts when a download ends (\(ahead) ahead of it)")
        case .refused(let reason): error(reason)
        }
    }
}

/// One download and the lines it ends with.
struct DownloadJob: Sendable {
    let match: Search.Match
    let alternatives: [Search.Match]
    let peer: any ConsolePeer
    let screen: ConsoleScreen
    /// Where a failure leaves the other copies, for Enter at the console.
    let retries: Locked<[Search.Match]>
    let cancellation = DownloadCancellation()
    /// How it ended, once it did: saved, or the bytes kept to resume (nil: none).
    let ending = Locked<(saved: Bool, kept: Int64?)?>(nil)
    /// Set when the peer quits: the quit says one line for all, not one each.
    let isQuiet = Locked(false)

    /// Says what a download met on its way: a whole-file refetch, kept
    /// pieces fetched again, a liar caught.
    private func announce(_ event: Downloader.Event) {
        switch event {
        case .mismatch(let count):
            say(
                "\(VisibleName.text(match.name)) from \(count) peers did not match its SHA-256: fetching it again, one peer at a time"
            )
        case .repairing(let count):
            let pieces = count == 1 ? "1 piece" : "\(count) pieces"
            say("\(pieces) of the kept \(VisibleName.text(match.name)) did not match: fetching them again")
        case .caught(let liar, let why):
            say("\(liar) \(why): it is not asked again in this run (/peers)")
        default: break
        }
    }

    /// Runs the download to its end; `progress` hears of its bytes and sources.
    func run(progress: (@Sendable (Downloader.Event) -> Void)?) {
        var kept: Int64?
        var resumedFrom: Int64 = 0
        let sources = Locked(1)
        let started = MonotonicClock.now
        let outcome = Result { () throws(DownloadError) in
            try peer.download([match] + alternatives, cancellation: cancellation) { event in
                switch event {
                case .progress: progress?(event)
                case .sources(let count):
                    sources.withLock { $0 = count }
                    progress?(event)
                case .resumed(let offset): resumedFrom = offset
                case .kept(let bytes): kept = bytes
                case .mismatch, .repairing, .caught: announce(event)
                }
            }
        }
        let saved: Bool
        if case .success(.saved) = outcome { saved = true } else { saved = false }
        ending.withLock { $0 = (saved, kept) }
        guard !isQuiet.withLock({ $0 }) else { return }
        let shown = VisibleName.text(match.name)
        switch outcome {
        case .success(.saved(let savedName, let bytes, let check)):
            let elapsed = MonotonicClock.now - started
            // A cancel that came after the file took its name: said, not hidden.
            let late = cancellation.isCancelled ? "(the cancel came too late) " : ""
            return screen.say(
                late
                    + savedLine(
                        savedName,
                        bytes: bytes,
                        check: check,
                        resumedFrom: resumedFrom,
                        elapsed: elapsed,
                        sources: sources.withLock { $0 }
                    )
            )
        case .success(.empty):
            error("nothing saved: \(shown) is missing or empty at \(match.peer)")
        case .success(.notOffered):
            error("nothing saved: \(shown) is no longer offered at \(match.peer)")
        case .failure(let failure):
            if reportFailure(failure, kept: kept) { return }
        }
        // Never offered: a peer caught lying, in this download or before.
        let liars = peer.peerReport().liars
        let others = alternatives.filter { liars[$0.peer] == nil }
        if let next = others.first {
            let count = others.count == 1 ? "1 other peer" : "\(others.count) other peers"
            say("\(shown) is also on \(count): press Enter to try \(next.peer), or type a query")
            retries.withLock { $0 = others }
        }
    }

    /// One line for a failed download; true if it was cancelled (no retry offered).
    private func reportFailure(_ failure: DownloadError, kept: Int64?) -> Bool {
        let shown = VisibleName.text(match.name)
        let keptNote = kept.map { "; \(Formatting.bytes($0)) kept: picking this file again resumes" } ?? ""
        if cancellation.isCancelled {
            say("download of \(shown) cancelled\(keptNote.isEmpty ? ", nothing saved" : keptNote)")
            return true
        }
        // One outcome, no contradiction: stopped with bytes kept, or failed with nothing.
        if keptNote.isEmpty {
            error("download of \(shown) from \(match.peer) failed, nothing saved: \(failure)")
        } else {
            error("download of \(shown) from \(match.peer) stopped: \(failure)\(keptNote)")
        }
        return false
    }

    private func say(_ line: String) {
        screen.say(line)
    }

    private func error(_ line: String) {
        screen.say(screen.paint(line, .red))
    }

    private func savedLine(
        _ savedName: String,
        bytes: Int64,
        check: Downloader.Check,
        resumedFrom: Int64,
        elapsed: Double,
        sources: Int
    ) -> String {
        let renamed = savedName == match.name ? "" : " (\(VisibleName.text(match.name)) already exists here)"
        let moved = bytes - resumedFrom
        let resumed = resumedFrom > 0 ? ", resumed from \(Formatting.bytes(resumedFrom))" : ""
        let checked =
            switch check {
            case .verified(let sha256): "verified sha256 \(sha256.prefix)"
            case .sizeOnly: "size checked, not verified (\(match.peer) had not hashed it yet)"
            case .unverified: "not verified (\(match.peer) speaks plain P+2: size unknown)"
            }
        // The time always; the rate from 1 MiB (a small file's rate says nothing).
        let size = bytes < 1024 ? "\(bytes) bytes" : "\(Formatting.bytes(bytes)) (\(bytes) bytes)"
        let rate = moved >= 1 << 20 ? ", \(Formatting.rate(bytes: moved, seconds: elapsed))" : ""
        let from = sources > 1 ? "\(sources) peers" : match.peer.description
        return screen.paint("saved \(VisibleName.text(savedName))", .green)
            + "\(renamed): \(size) in \(Formatting.seconds(elapsed))\(rate)\(resumed), from \(from), \(checked), in \(peer.sharedFolderPath)"
    }
}
