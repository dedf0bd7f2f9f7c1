import PPlus2Core
import PPlus2POSIX

// Picking a match and downloading it: progress on a terminal, one line for the
// result, and, after a failure, Enter to go on from the next peer that offers
// the same content (or, for a plain peer's file, the same name).

extension Console {
    func pick(_ number: Int) {
        guard (1...max(1, entries.count)).contains(number), !entries.isEmpty else {
            error("no match numbered \(number): choose 1-\(entries.count), or Enter to skip")
            return
        }
        isPicking = false
        let entry = entries[number - 1]
        let match = entry[0]
        download(match, alternatives: alternatives(to: match))
    }

    /// The other copies worth trying after `match`: the same content where it
    /// is known; else the same name (a plain peer cannot say more).
    func alternatives(to match: Search.Match) -> [Search.Match] {
        listing.filter { other in
            guard other.peer != match.peer else { return false }
            if match.sha256 != nil { return other.hasSameContent(as: match) }
            return other.sha256 == nil && Array(other.name.utf8) == Array(match.name.utf8)
        }
    }

    /// Downloads `match`; if it fails, offers the first of `alternatives`.
    func download(_ match: Search.Match, alternatives: [Search.Match]) {
        var progress = ProgressLine(match: match, screen: screen)
        var kept: Int64?
        let outcome = Result { () throws(DownloadError) in
            try peer.download(match) { event in
                switch event {
                case .progress(let bytes, let size): progress.update(bytes: bytes, size: size)
                case .resumed(let offset): progress.resumed(from: offset)
                case .kept(let bytes): kept = bytes
                }
            }
        }
        progress.clear()
        let shown = VisibleName.text(match.name)
        switch outcome {
        case .success(.saved(let savedName, let bytes, let check)):
            return reportSaved(match, as: savedName, bytes: bytes, check: check, progress: progress)
        case .success(.empty):
            error("nothing saved: \(shown) is missing or empty at \(match.peer)")
        case .success(.notOffered):
            error("nothing saved: \(shown) is no longer offered at \(match.peer)")
        case .failure(let failure):
            let keptNote = kept.map { ": \(Formatting.bytes($0)) kept, picking this file again resumes" } ?? ""
            error("download of \(shown) from \(match.peer) failed, nothing saved: \(failure)\(keptNote)")
        }
        if let next = alternatives.first {
            let count = alternatives.count == 1 ? "1 other peer" : "\(alternatives.count) other peers"
            say("\(shown) is also on \(count): press Enter to try \(next.peer), or type a query")
            retries = alternatives
        }
    }

    private func reportSaved(
        _ match: Search.Match,
        as savedName: String,
        bytes: Int64,
        check: Downloader.Check,
        progress: ProgressLine
    ) {
        let renamed = savedName == match.name ? "" : " (\(VisibleName.text(match.name)) already exists here)"
        let elapsed = progress.elapsed
        let moved = bytes - progress.resumedFrom
        let resumed = progress.resumedFrom > 0 ? ", resumed from \(Formatting.bytes(progress.resumedFrom))" : ""
        let checked =
            switch check {
            case .verified(let sha256): "verified sha256 \(sha256.prefix)"
            case .sizeOnly: "size checked, not verified (\(match.peer) had not hashed it yet)"
            case .unverified: "not verified (\(match.peer) speaks plain P+2: size unknown)"
            }
        say(
            screen.paint("saved \(VisibleName.text(savedName))", .green)
                + "\(renamed): \(Formatting.bytes(bytes)) (\(bytes) bytes) in "
                + "\(Formatting.seconds(elapsed)), \(Formatting.rate(bytes: moved, seconds: elapsed))\(resumed), "
                + "from \(match.peer), \(checked), in \(peer.sharedFolderPath)"
        )
    }
}

/// The live progress line of a download on a terminal: bytes, percentage,
/// rate and time left when the size is known; at most ten redraws a second.
struct ProgressLine {
    let match: Search.Match
    let screen: ConsoleScreen
    let started = MonotonicClock.now
    private(set) var resumedFrom: Int64 = 0
    private var lastDraw = -Double.infinity
    private var drew = false

    init(match: Search.Match, screen: ConsoleScreen) {
        self.match = match
        self.screen = screen
    }

    var elapsed: Double { MonotonicClock.now - started }

    mutating func resumed(from offset: Int64) {
        resumedFrom = offset
    }

    mutating func update(bytes: Int64, size: Int64?) {
        guard screen.isTerminal else { return }
        let now = MonotonicClock.now
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        drew = true
        let elapsed = now - started
        let moved = bytes - resumedFrom
        var text = "\r  \(VisibleName.text(match.name)): \(Formatting.bytes(bytes))"
        if let size, size > 0 {
            text += " of \(Formatting.bytes(size)) (\(bytes * 100 / size)%)"
        }
        text += "  \(Formatting.rate(bytes: moved, seconds: elapsed))  \(Formatting.seconds(elapsed))"
        if let size, moved > 0, elapsed > 0 {
            let left = Double(size - bytes) / (Double(moved) / elapsed)
            text += ", \(Formatting.seconds(left)) left"
        }
        screen.draw(text + "\u{1B}[K")
    }

    func clear() {
        if drew { screen.draw("\r\u{1B}[K") }
    }
}
