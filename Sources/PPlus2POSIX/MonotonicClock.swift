import Glibc

/// Seconds on the monotonic clock: immune to changes of the wall clock, so
/// every deadline and interval in the peer is measured with it.
public enum MonotonicClock {
    public static var now: Double { Sys.clock(CLOCK_MONOTONIC) }

    /// A `poll` timeout in milliseconds for `seconds`, rounded up, at least 0,
    /// at most a day.
    public static func milliseconds(_ seconds: Double) -> CInt {
        guard seconds > 0 else { return 0 }
        return CInt(min((seconds * 1000).rounded(.up), 86_400_000))
    }
}

/// Seconds since the epoch on the wall clock: only to compare with file times.
public enum WallClock {
    public static var now: Double { Sys.clock(CLOCK_REALTIME) }
}
