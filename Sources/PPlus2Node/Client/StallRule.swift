import PPlus2POSIX

/// The contract's floor for a download: a connection that moves less than
/// `bytes` in `seconds` is ended as stalled (curl's `--speed-limit` and
/// `--speed-time`). The idle timeout alone cannot catch a peer that sends a
/// byte every few seconds: that would take weeks for a large file.
public struct StallRule: Sendable, Equatable {
    public var bytes: Int64
    public var seconds: Double

    /// 1 KiB in 30 s, as the contract says.
    public init(bytes: Int64 = 1024, seconds: Double = 30) {
        self.bytes = bytes
        self.seconds = seconds
    }
}

/// The rule applied to one connection: counts what arrives in the current
/// window of `rule.seconds`; a window that ends under `rule.bytes` is a stall.
final class StallWatch {
    let rule: StallRule
    private var windowEnd: Double
    private var windowBytes: Int64 = 0

    init(rule: StallRule, now: Double = MonotonicClock.now) {
        self.rule = rule
        windowEnd = now + rule.seconds
    }

    /// How long the next wait may last before the window must be judged.
    func wait(upTo idleTimeout: Double, now: Double = MonotonicClock.now) -> Double {
        max(0.001, min(idleTimeout, windowEnd - now))
    }

    /// `count` bytes arrived.
    func moved(_ count: Int) {
        windowBytes += Int64(count)
    }

    /// True if the window is over under the floor (a stall); a window over
    /// at or above it starts the next one.
    func isStalled(now: Double = MonotonicClock.now) -> Bool {
        guard now >= windowEnd else { return false }
        if windowBytes < rule.bytes { return true }
        windowBytes = 0
        windowEnd = now + rule.seconds
        return false
    }
}
