import PPlus2Core
import PPlus2POSIX

/// The downloads a terminal's console runs beside itself: at most
/// `maxRunning` at once, each on a thread of its own, numbered for
/// `/downloads` and `/cancel`, their progress together on the screen's status
/// line (redrawn at most ten times a second).
final class DownloadJobs: Sendable {
    static let maxRunning = 4

    /// A download running, as its status shows it.
    struct Running {
        let number: Int
        let job: DownloadJob
        let started: Double
        var bytes: Int64 = 0
        var size: Int64?
        /// When its bytes last grew: nothing for a while shows as stalled.
        var lastGrowth = MonotonicClock.now
        /// Peers sending at once (a multi-source download), if more than one.
        var sources = 1
    }

    private struct State {
        var running: [Running] = []
        /// Picks beyond `maxRunning`, started in order as downloads end.
        var waiting: [DownloadJob] = []
        var nextNumber = 1
        /// Threads of downloads that ended, joined at the next start (they are done).
        var finished: [ThreadHandle] = []
        var lastDraw = -Double.infinity
    }

    private let screen: ConsoleScreen
    private let state = Locked(State())

    init(screen: ConsoleScreen) {
        self.screen = screen
    }

    var isEmpty: Bool { state.withLock { $0.running.isEmpty } }

    /// Picks waiting their turn at most.
    static let maxWaiting = 1000

    /// What became of a pick.
    enum Start: Equatable {
        case running(Int)
        /// Waiting its turn: this many picks are ahead of it.
        case queued(ahead: Int)
        case refused(String)
    }

    /// Starts `job`, or queues it behind `maxRunning` running downloads.
    func start(_ job: DownloadJob) -> Start {
        let (outcome, done) = state.withLock { state -> (Start, [ThreadHandle]) in
            let done = state.finished
            state.finished = []
            guard state.running.count < Self.maxRunning else {
                guard state.waiting.count < Self.maxWaiting else {
                    return (.refused("\(Self.maxWaiting) picks are waiting already: /cancel some"), done)
                }
                state.waiting.append(job)
                return (.queued(ahead: state.waiting.count - 1), done)
            }
            return (.running(Self.enter(job, into: &state)), done)
        }
        for thread in done { thread.join() }
        guard case .running(let number) = outcome else { return outcome }
        if let problem = launch(job, number: number) { return .refused(problem) }
        return outcome
    }

    private static func enter(_ job: DownloadJob, into state: inout State) -> Int {
        let number = state.nextNumber
        state.nextNumber += 1
        state.running.append(Running(number: number, job: job, started: MonotonicClock.now))
        return number
    }

    /// Runs a started download on a thread of its own; the reason if it cannot.
    private func launch(_ job: DownloadJob, number: Int) -> String? {
        let thread = ThreadHandle()
        do {
            try thread.start(name: "download") { [self] in
                job.run { event in self.update(number, event) }
                end(number, thread: thread)
            }
        } catch {
            end(number, thread: nil)
            return "cannot start the download: \(error.reason)"
        }
        return nil
    }

    /// Runs `job` on the calling thread (a pipe's console: its result line
    /// comes before the next line is read), registered like the others, so
    /// that a quit meanwhile counts it.
    func runHere(_ job: DownloadJob) {
        let number = state.withLock { Self.enter(job, into: &$0) }
        job.run(progress: nil)
        state.withLock { state in state.running.removeAll { $0.number == number } }
    }

    /// The peer quits: every download is stopped (its partial kept to resume
    /// where its content is known), waiting at most `seconds` for them to
    /// end; the one line that says what stopped and what was kept, or nil if
    /// nothing was running.
    func stopAll(within seconds: Double) -> String? {
        let (running, waiting) = state.withLock { state in
            defer { state.waiting.removeAll() }
            return (state.running.map(\.job), state.waiting.count)
        }
        guard !running.isEmpty || waiting > 0 else { return nil }
        for job in running {
            job.isQuiet.withLock { $0 = true }
            job.cancellation.cancel()
        }
        let deadline = MonotonicClock.now + seconds
        let waiter = ConditionLock()
        while MonotonicClock.now < deadline, running.contains(where: { $0.ending.withLock { $0 } == nil }) {
            waiter.withLock { _ = waiter.wait(until: min(deadline, MonotonicClock.now + 0.02)) }
        }
        return Self.quitLine(running, waiting: waiting)
    }

    private static func quitLine(_ jobs: [DownloadJob], waiting: Int) -> String {
        var kept: [String] = []
        var stopped = 0
        for job in jobs {
            guard let ending = job.ending.withLock({ $0 }), ending.saved else {
                stopped += 1
                if let bytes = job.ending.withLock({ $0?.kept }) ?? nil {
                    kept.append("\(VisibleName.text(job.match.name)) (\(Formatting.bytes(bytes)))")
                }
                continue
            }
        }
        var line = "quitting: \(stopped) download\(stopped == 1 ? "" : "s") stopped"
        if waiting > 0 { line += ", \(waiting) waiting pick\(waiting == 1 ? "" : "s") dropped" }
        line +=
            kept.isEmpty
            ? "; nothing kept to resume"
            : "; kept to resume (pick the same file again): " + kept.joined(separator: ", ")
        return line
    }

    /// `/downloads`: one line each, oldest first.
    func report() -> [String] {
        let now = MonotonicClock.now
        return state.withLock { state in
            state.running.map { running in
                "  \(running.number)) \(Self.progress(of: running, now: now)), from \(running.job.match.peer)"
            }
        }
    }

    /// Cancels download `number` (nil: the newest); what it cancelled, if any.
    @discardableResult
    func cancel(_ number: Int?) -> String? {
        let target = state.withLock { state in
            number.map { number in state.running.first { $0.number == number } } ?? state.running.last
        }
        guard let target else { return nil }
        target.job.cancellation.cancel()
        return "\(target.number)) \(VisibleName.text(target.job.match.name))"
    }

    private func update(_ number: Int, _ event: Downloader.Event) {
        let now = MonotonicClock.now
        let status = state.withLock { state -> String? in
            guard let index = state.running.firstIndex(where: { $0.number == number }) else { return nil }
            switch event {
            case .progress(let bytes, let size):
                if bytes != state.running[index].bytes { state.running[index].lastGrowth = now }
                state.running[index].bytes = bytes
                state.running[index].size = size
            case .sources(let count): state.running[index].sources = count
            default: break
            }
            guard now - state.lastDraw >= 0.1 else { return nil }
            state.lastDraw = now
            return Self.statusLine(state.running, now: now, width: screen.width - 1)
        }
        if let status { screen.setStatus(status) }
    }

    private func end(_ number: Int, thread: ThreadHandle?) {
        let (status, next) = state.withLock { state -> (String?, (DownloadJob, Int)?) in
            state.running.removeAll { $0.number == number }
            if let thread { state.finished.append(thread) }
            var next: (DownloadJob, Int)?
            if !state.waiting.isEmpty {
                let job = state.waiting.removeFirst()
                next = (job, Self.enter(job, into: &state))
            }
            return (
                state.running.isEmpty
                    ? nil : Self.statusLine(state.running, now: MonotonicClock.now, width: screen.width - 1), next
            )
        }
        screen.setStatus(status)
        if let (job, number) = next, let problem = launch(job, number: number) { screen.say(problem) }
    }

    /// Every running download on one line that fits `width` columns: each
    /// in full if they all fit, else each in short (`[3] big-vid… 42% 120.5 MiB/s`)
    /// with its name cut to an equal share of the width, so that the last
    /// one is never cut off.
    static func statusLine(_ running: [Running], now: Double, width: Int = .max) -> String {
        let full = running.map { "[\($0.number)] " + progress(of: $0, now: now) }.joined(separator: "   ")
        guard DisplayWidth.of(full) > width, !running.isEmpty else { return full }
        let share = (width - 2 * (running.count - 1)) / running.count
        return running.map { item in
            let tail = " " + brief(item, now: now)
            let room = share - DisplayWidth.of("[\(item.number)] ") - DisplayWidth.of(tail)
            let name = VisibleName.text(item.job.match.name)
            let shown =
                room < 2 ? "" : DisplayWidth.of(name) <= room ? name : prefix(of: name, columns: room - 1) + "…"
            return "[\(item.number)] " + shown + tail
        }.joined(separator: "  ")
    }

    /// The longest start of `text` that takes at most `columns` columns.
    private static func prefix(of text: String, columns: Int) -> String {
        var used = 0
        var kept = ""
        for character in text {
            used += DisplayWidth.of(character)
            if used > columns { break }
            kept.append(character)
        }
        return kept
    }

    /// `42% 120.5 MiB/s`, `34.4 MiB stalled`: a download's state in short.
    private static func brief(_ running: Running, now: Double) -> String {
        var text = Formatting.bytes(running.bytes)
        if let size = running.size, size > 0 { text = "\(running.bytes * 100 / size)%" }
        let elapsed = now - running.started
        if now - running.lastGrowth >= stalledAfter {
            text += " stalled"
        } else if elapsed >= 0.5 {
            text += " " + Formatting.rate(bytes: running.bytes, seconds: elapsed)
        }
        return text
    }

    /// Seconds without a byte after which a download shows as stalled.
    static let stalledAfter = 3.0

    /// `big.bin: 34.4 MiB of 1.0 GiB (3%)  120.5 MiB/s, 8 s left`, or `stalled 12 s`.
    private static func progress(of running: Running, now: Double) -> String {
        var text = "\(VisibleName.text(running.job.match.name)): \(Formatting.bytes(running.bytes))"
        if let size = running.size, size > 0 {
            text += " of \(Formatting.bytes(size)) (\(running.bytes * 100 / size)%)"
        }
        let elapsed = now - running.started
        let quiet = now - running.lastGrowth
        if quiet >= stalledAfter {
            text += "  stalled \(Formatting.seconds(quiet))"
        } else if elapsed >= 0.5 {
            text += "  \(Formatting.rate(bytes: running.bytes, seconds: elapsed))"
            if let size = running.size, running.bytes > 0, size > running.bytes {
                let left = Double(size - running.bytes) * elapsed / Double(running.bytes)
                text += ", \(Formatting.seconds(left)) left"
            }
        }
        if running.sources > 1 { text += "  from \(running.sources) peers" }
        return text
    }
}
