import PPlus2Core

/// What the peer served, summed up for the console: one line a second after
/// the first file served after a quiet spell (the ranges of one download
/// that follow at once are in it), then at most one line every `interval`
/// seconds for all that was served meanwhile, so a busy peer (a thousand
/// callers, a file fetched in a hundred ranges) never floods the console.
/// Kept by the event loop's thread alone.
struct ServedTally {
    static let interval = 10.0
    static let grace = 1.0

    private var bytes: Int64 = 0
    private var transfers = 0
    private var names: [String] = []
    private var otherNames = 0
    private var callers: Set<UInt32> = []
    private var firstAt: Double?
    private var lastLineAt = -Double.infinity

    /// A file (or a range of it) sent whole to `caller`.
    mutating func add(name: String, bytes count: Int64, caller: UInt32, now: Double) {
        bytes += count
        transfers += 1
        callers.insert(caller)
        if !names.contains(name) {
            if names.count < 3 { names.append(name) } else { otherNames += 1 }
        }
        if firstAt == nil { firstAt = now }
    }

    /// When the next line is due; nil when nothing waits to be said.
    var dueAt: Double? { firstAt.map { max($0 + Self.grace, lastLineAt + Self.interval) } }

    /// The line to say now, if one is due; the tally starts again.
    mutating func line(now: Double) -> String? {
        guard let due = dueAt, now >= due else { return nil }
        var files = names.map(VisibleName.text).joined(separator: ", ")
        if otherNames > 0 { files += " and \(otherNames) more" }
        let to = callers.count == 1 ? "\(IPv4Address(callers.first!))" : "\(callers.count) peers"
        let count = transfers == 1 ? "" : " (\(transfers) transfers)"
        let text = "served \(files): \(Formatting.bytes(bytes)) to \(to)\(count)"
        self = ServedTally()
        lastLineAt = now
        return text
    }
}
