/// One answer on its way to a caller, as plain state: the bytes still to send
/// (a header, a list of names or peers), then the range of a file still to
/// send, and the rules that end a caller who does not take it. The event loop
/// moves the bytes and asks this value what to do; no socket in here, so the
/// rules are tested with numbers.
///
/// The rules (the contract's and the README's limits): a caller must take the
/// answer at `minimumRate` on average once `graceSeconds` are over, counted on
/// what it acknowledged (what sits in our send buffer does not count), and
/// may not stop taking it for `idleSeconds`; a short answer (a list) must also
/// be taken whole within `idleSeconds`.
public struct Transfer: Sendable {
    public struct Rules: Sendable, Equatable {
        public var minimumRate: Double
        public var graceSeconds: Double
        public var idleSeconds: Double

        public init(minimumRate: Double, graceSeconds: Double, idleSeconds: Double) {
            self.minimumRate = minimumRate
            self.graceSeconds = graceSeconds
            self.idleSeconds = idleSeconds
        }
    }

    /// What the loop is to do with a transfer now.
    public enum Verdict: Equatable, Sendable {
        case carryOn
        /// Everything was sent: close cleanly (a file's version is checked first).
        case complete
        /// The caller took too little, too slowly, or stopped: reset.
        case tooSlow
        case idle
    }

    public let rules: Rules
    public let started: Double
    /// Bytes to send before the file's range.
    public private(set) var bytes: [UInt8]
    public private(set) var bytesSent = 0
    /// Where the file's range stands, and what is left of it.
    public private(set) var fileOffset: Int64
    public private(set) var fileLeft: Int64
    /// Where the file's range ends: a transfer that stops short of it was cut.
    public let fileEnd: Int64
    /// The bytes of the file the transfer carries, in all.
    public var fileCount: Int64 { fileEnd - fileStart }
    private let fileStart: Int64
    /// Bytes handed to the kernel so far (bytes and file).
    public private(set) var written: Int64 = 0
    public private(set) var lastProgress: Double
    /// A list answer (no file) must be taken whole within the idle time.
    private let isList: Bool

    public init(bytes: [UInt8], fileOffset: Int64 = 0, fileCount: Int64 = 0, isList: Bool, rules: Rules, now: Double) {
        self.bytes = bytes
        self.fileOffset = fileOffset
        self.fileLeft = fileCount
        fileEnd = fileOffset + fileCount
        fileStart = fileOffset
        self.isList = isList
        self.rules = rules
        started = now
        lastProgress = now
    }

    /// Bytes of `bytes` still to send, from `bytesSent` on.
    public var bytesLeft: Int { bytes.count - bytesSent }

    public var isComplete: Bool { bytesLeft == 0 && fileLeft == 0 }

    /// Runs `body` on the bytes still to send.
    public func withBytesLeft<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let sent = bytesSent
        return try bytes.withUnsafeBytes { raw in
            Result { () throws(E) in try body(UnsafeRawBufferPointer(rebasing: raw[sent...])) }
        }.get()
    }

    /// `count` more of the bytes went out.
    public mutating func sentBytes(_ count: Int, now: Double) {
        bytesSent += count
        written += Int64(count)
        if count > 0 { lastProgress = now }
        if bytesLeft == 0 && !bytes.isEmpty {  // let the buffer go at once
            bytes = []
            bytesSent = 0
        }
    }

    /// `count` more of the file went out.
    public mutating func sentFile(_ count: Int64, now: Double) {
        fileOffset += count
        fileLeft -= count
        written += count
        if count > 0 { lastProgress = now }
    }

    /// The file ended early (it shrank while it was sent): nothing more to send.
    public mutating func fileEnded() {
        fileLeft = 0
    }

    /// What to do now, `unacknowledged` bytes still in our send buffer.
    public func verdict(now: Double, unacknowledged: Int64) -> Verdict {
        if isComplete { return .complete }
        if now - lastProgress >= rules.idleSeconds { return .idle }
        if isList && now - started >= rules.idleSeconds { return .idle }
        let taken = Double(max(0, written - unacknowledged))
        if now >= started + max(rules.graceSeconds, taken / rules.minimumRate) { return .tooSlow }
        return .carryOn
    }
}
