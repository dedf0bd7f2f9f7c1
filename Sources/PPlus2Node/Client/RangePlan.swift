import PPlus2POSIX

/// The ranges of one multi-source download and who has them.
///
/// Ranges are handed out in file order to whichever source asks next, so a
/// faster source, asking more often, takes more of them (work stealing); a
/// range whose source failed goes back to the front of the queue for the
/// others. A source that asks while nothing waits but ranges are still in
/// flight waits for one to come back or for the end. Thread-safe.
final class RangePlan: @unchecked Sendable {
    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var waiting: [Range<Int64>]
    private var inFlight = 0
    private var done: [Range<Int64>] = []
    private var doneBytes: Int64 = 0
    /// How far each range in flight has been written, by its start.
    private var writtenUpTo: [Int64: Int64] = [:]
    private var activeSources: Int
    let start: Int64

    /// The bytes `start..<size` in ranges of at most `rangeSize`, cut at its
    /// multiples (at least one range), for `sources` sources.
    convenience init(from start: Int64, size: Int64, rangeSize: Int64, sources: Int) {
        self.init(missing: [start..<max(start, size)], size: size, rangeSize: rangeSize, sources: sources)
    }

    /// The `missing` bytes (in file order) in ranges of at most `rangeSize`,
    /// cut at its multiples; every other byte of `0..<size` is already there
    /// (a kept partial's good pieces).
    init(missing: [Range<Int64>], size: Int64, rangeSize: Int64, sources: Int) {
        // Cut at multiples of `rangeSize` counted from the file's start, so a
        // resume's ranges stay aligned with the pieces of the file.
        let step = max(rangeSize, 1)
        var ranges: [Range<Int64>] = []
        for gap in missing {
            var lower = gap.lowerBound
            while lower < gap.upperBound {
                let upper = min((lower / step + 1) * step, gap.upperBound)
                ranges.append(lower..<upper)
                lower = upper
            }
        }
        start = missing.first?.lowerBound ?? size
        // What is there already counts as done, so the ends below count from byte 0.
        var present: [Range<Int64>] = []
        var end: Int64 = 0
        for gap in missing {
            if gap.lowerBound > end { present.append(end..<gap.lowerBound) }
            end = max(end, gap.upperBound)
        }
        if size > end { present.append(end..<size) }
        done = present
        doneBytes = present.reduce(0) { $0 + Int64($1.count) }
        waiting = ranges
        // Nothing left to fetch (an empty file, a whole kept partial): one empty
        // range still asks, so the source confirms the version it offers.
        if waiting.isEmpty { waiting = [start..<start] }
        activeSources = sources
    }

    /// The next range for a source; nil when none is left to fetch. With
    /// `pieceSize` (a source not yet proven honest), one piece only, the last
    /// one still waiting: the piece whose check must reach the file's SHA-256
    /// (`PieceList`), so a list that goes through other bytes than the
    /// content's is found out at its source's first piece. Else the first range.
    func next(onePieceOf pieceSize: Int64? = nil) -> Range<Int64>? {
        lock.withLock {
            while waiting.isEmpty && inFlight > 0 { _ = lock.wait() }
            guard !waiting.isEmpty else { return nil }
            inFlight += 1
            guard let pieceSize, pieceSize > 0 else { return waiting.removeFirst() }
            // The furthest range waiting: a failed range goes back first in line, wherever it lies.
            let furthest = waiting.indices.max { waiting[$0].upperBound < waiting[$1].upperBound }!
            let range = waiting.remove(at: furthest)
            let pieceStart = max(range.lowerBound, (max(range.upperBound - 1, 0) / pieceSize) * pieceSize)
            if pieceStart > range.lowerBound { waiting.insert(range.lowerBound..<pieceStart, at: furthest) }
            return pieceStart..<range.upperBound
        }
    }

    /// A range in flight is written up to `position`.
    func wrote(_ range: Range<Int64>, upTo position: Int64) {
        lock.withLock { writtenUpTo[range.lowerBound] = position }
    }

    func finished(_ range: Range<Int64>) {
        lock.withLock {
            writtenUpTo[range.lowerBound] = nil
            inFlight -= 1
            done.append(range)
            doneBytes += Int64(range.count)
            lock.broadcast()
        }
    }

    /// The range's source failed after writing it up to `position`: what was
    /// written counts as done (the whole file's hash still checks it), the
    /// rest goes back, first in line.
    func failed(_ range: Range<Int64>, writtenUpTo position: Int64) {
        lock.withLock {
            let cut = min(max(position, range.lowerBound), range.upperBound)
            writtenUpTo[range.lowerBound] = nil
            inFlight -= 1
            if cut > range.lowerBound {
                done.append(range.lowerBound..<cut)
                doneBytes += cut - range.lowerBound
            }
            if cut < range.upperBound { waiting.insert(cut..<range.upperBound, at: 0) }
            lock.broadcast()
        }
    }

    /// A source stopped asking (it failed too often, or nothing was left).
    func sourceEnded() {
        lock.withLock {
            activeSources -= 1
            lock.broadcast()
        }
    }

    /// Waits up to `seconds` for news; the bytes of the file there so far
    /// (what was there before included) and whether every source has ended.
    func progress(waitingUpTo seconds: Double) -> (bytes: Int64, ended: Bool) {
        lock.withLock {
            if activeSources > 0 { _ = lock.wait(until: MonotonicClock.now + seconds) }
            return (doneBytes, activeSources == 0)
        }
    }

    var isComplete: Bool { lock.withLock { waiting.isEmpty && inFlight == 0 } }

    /// Where the bytes known written from the file's start stop: the start of the first hole.
    var contiguousEnd: Int64 {
        lock.withLock {
            var end: Int64 = 0
            for range in done.sorted(by: { $0.lowerBound < $1.lowerBound }) where range.lowerBound == end {
                end = range.upperBound
            }
            return end
        }
    }

    /// `contiguousEnd`, and into the range in flight that starts there (what
    /// the hash can follow; a range that then fails is written again with the
    /// same bytes, or the whole file's check fails).
    var writtenEnd: Int64 {
        let end = contiguousEnd
        return lock.withLock { writtenUpTo[end] ?? end }
    }
}
