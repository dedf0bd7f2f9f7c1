import Glibc

/// Process-wide settings and signals.
public enum ProcessControl {
    /// A write to a closed socket must return EPIPE, and a write past a file-size
    /// limit EFBIG: neither may kill the process.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
    }

    /// Blocks SIGINT and SIGTERM in the calling thread and every thread it
    /// starts afterwards, so that only `waitForTermination` receives them.
    /// Call before starting any thread.
    public static func blockTerminationSignals() {
        // A shell starts background jobs with SIGINT ignored; an ignored signal
        // is discarded before sigwait could see it, so restore the default first.
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        var set = terminationSignals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    public static func waitForTermination() -> CInt {
        var set = terminationSignals()
        var received: CInt = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    private static func terminationSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// Raises the soft limit of open descriptors to the hard limit, so a burst
    /// of connections meets the peer's own bounds before the kernel's.
    public static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Whether a process with this pid exists.
    public static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    public static var pid: Int32 { getpid() }

    /// Blocks the calling thread until a signal handler runs (never, here).
    public static func waitForever() {
        pause()
    }

    /// Ends the process at once with `status`.
    public static func exit(_ status: CInt) -> Never {
        Glibc.exit(status)
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
                let count = Sys.write(fd, UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                if count <= 0 { return }  // a closed stream: nothing left to tell
                offset += count
            }
        }
    }

    public static func isTerminal(_ fd: CInt) -> Bool {
        isatty(fd) == 1
    }

    /// An environment variable's value, or nil.
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// Reads lines from a descriptor (the console's standard input), blocking.
/// A line longer than `maxLineBytes` is cut there; invalid UTF-8 is repaired.
public struct LineInput {
    public let fd: CInt
    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var isAtEnd = false

    public init(fd: CInt, maxLineBytes: Int = 64 * 1024) {
        self.fd = fd
        self.maxLineBytes = maxLineBytes
    }

    /// The next line without its `\n` (and `\r`); nil at end of input.
    public mutating func nextLine() -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                return Self.text(line)
            }
            if buffer.count - start >= maxLineBytes {
                let line = buffer[start..<start + maxLineBytes]
                start += maxLineBytes
                return Self.text(line)
            }
            if isAtEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return Self.text(buffer[start...])
            }
            buffer.removeSubrange(0..<start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { Sys.read(fd, $0) }
            if count <= 0 {
                isAtEnd = true
            } else {
                buffer.append(contentsOf: chunk[..<count])
            }
        }
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
