import Glibc

/// Process-wide settings and signals.
public enum ProcessControl {
    /// A write to a closed socket must return EPIPE, and a write past a file-size
    /// limit EFBIG: neither may kill the process. Idempotent.
    public static func ignoreBrokenPipes() {
        Sys.ignoreSignal(SIGPIPE)
        Sys.ignoreSignal(SIGXFSZ)
    }

    /// Blocks SIGINT and SIGTERM in the calling thread and every thread it
    /// starts afterwards, so that only `waitForTermination` receives them.
    /// Call before starting any thread.
    public static func blockTerminationSignals() {
        // A shell starts background jobs with SIGINT ignored; an ignored signal
        // is discarded before sigwait could see it, so restore the default first.
        Sys.defaultSignal(SIGINT)
        Sys.defaultSignal(SIGTERM)
        Sys.blockSignals([SIGINT, SIGTERM])
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    public static func waitForTermination() -> CInt {
        Sys.waitForSignal([SIGINT, SIGTERM])
    }

    /// Raises the soft limit of open descriptors to the hard limit, so a burst
    /// of connections meets the peer's own bounds before the kernel's.
    public static func raiseDescriptorLimit() {
        Sys.raiseDescriptorLimit()
    }

    /// Makes every allocation of 256 KiB or more a mapping of its own, handed
    /// back to the kernel when freed. By default glibc raises that threshold
    /// each time such a block is freed, up to 32 MiB, after which the index's
    /// replaced copies (a few MiB each, one per change of a large folder) are
    /// kept in the heap's free lists, by each thread's arena: measured on
    /// 100,000 files under a change every 100 ms and 8 clients, the peak went
    /// from 44 MiB to 31 MiB, the resident size after it from 39 to 24 MiB.
    public static func returnLargeBlocksToTheKernel() {
        Sys.setMallocMapThreshold(256 << 10)
    }

    /// Whether a process with this pid exists.
    public static func isAlive(_ pid: Int32) -> Bool {
        Sys.processExists(pid)
    }

    public static var pid: Int32 { Sys.processID }

    /// Blocks the calling thread until a signal handler runs (never, here).
    public static func waitForever() {
        Sys.pause()
    }

    /// Ends the process at once with `status`, the terminal's mode put back
    /// first if the console had made it raw.
    public static func exit(_ status: CInt) -> Never {
        Terminal.restore()
        Sys.exit(status)
    }
}

/// The standard streams, written with plain `write(2)`: every line goes out
/// whole and at once, on a terminal and on a pipe alike (no stdio buffering).
public enum StandardStreams {
    public static func write(_ text: String, to fd: CInt) {
        var text = text
        text.withUTF8 { utf8 in
            let buffer = UnsafeRawBufferPointer(utf8)
            var offset = 0
            while offset < buffer.count {
                // A closed stream or an error: nothing left to tell.
                guard let count = try? Sys.write(fd, UnsafeRawBufferPointer(rebasing: buffer[offset...])), count > 0
                else { return }
                offset += count
            }
        }
    }

    /// Reads what is there on `fd` (blocking), at most `maxBytes`; empty at the
    /// end of input or on an error.
    public static func read(from fd: CInt, maxBytes: Int = 4096) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: maxBytes)
        let count = chunk.withUnsafeMutableBytes { (try? Sys.read(fd, $0)) ?? 0 }
        return Array(chunk[..<count])
    }

    public static func isTerminal(_ fd: CInt) -> Bool {
        Sys.isTerminal(fd)
    }

    /// An environment variable's value, or nil.
    public static func environment(_ name: String) -> String? {
        Sys.environment(name)
    }
}
