import Glibc
import Synchronization

/// Owns one open file descriptor and closes it exactly once: when its owner
/// calls `close()`, or else when the last reference goes away.
///
/// The fallback close in `deinit` means no path (early return, thrown error)
/// can leak a descriptor or close one twice. Where the moment of the close is
/// part of the protocol (an answer ends when the callee closes), the owner
/// closes explicitly: see `Connection`. Nothing closes a descriptor from
/// outside its owner; threads that wait on one do so with a timeout, or on a
/// wake-up pipe.
public final class FileDescriptor: Sendable, CustomStringConvertible {
    public let rawValue: CInt
    private let isClosed = Atomic(false)

    /// Takes ownership of `rawValue`.
    public init(adopting rawValue: CInt) {
        self.rawValue = rawValue
    }

    deinit {
        if !isClosed.load(ordering: .relaxed) { Sys.close(rawValue) }
    }

    /// Closes the descriptor now (once: a second call does nothing). The owner
    /// makes no call on it afterwards: its number may belong to another file.
    public func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Sys.close(rawValue)
    }

    public var description: String { "fd \(rawValue)" }

    /// Sets or clears `O_NONBLOCK`.
    public func setNonBlocking(_ on: Bool) throws(IOFailure) {
        let flags = try Sys.fileStatusFlags(rawValue)
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags { try Sys.setFileStatusFlags(rawValue, wanted) }
    }

    /// Sets or clears `O_APPEND`. (Linux appends even `pwrite`s and refuses
    /// `splice` with an offset on a file open for appending: writes at a
    /// position need it cleared.)
    public func setAppending(_ on: Bool) throws(IOFailure) {
        let flags = try Sys.fileStatusFlags(rawValue)
        let wanted = on ? flags | O_APPEND : flags & ~O_APPEND
        if wanted != flags { try Sys.setFileStatusFlags(rawValue, wanted) }
    }

    /// Waits until there is something to read (data, a connection, an end of stream).
    public func waitUntilReadable(timeout: Double) -> Bool {
        wait(for: Int16(POLLIN), timeout: timeout)
    }

    /// Waits until the descriptor is ready for `events` (`POLLIN`, `POLLOUT`).
    /// Returns false if `timeout` seconds pass first. Errors and hang-ups count as
    /// ready: the next read or write reports them.
    public func wait(for events: Int16, timeout: Double) -> Bool {
        let deadline = MonotonicClock.now + timeout
        var entry = pollfd(fd: rawValue, events: events, revents: 0)
        while true {
            let remaining = deadline - MonotonicClock.now
            if remaining <= 0 { return false }
            // nil: interrupted, wait again; -1: let the next call report the error.
            guard let result = Sys.poll(&entry, 1, MonotonicClock.milliseconds(remaining)) else { continue }
            if result != 0 { return true }
        }
    }
}
