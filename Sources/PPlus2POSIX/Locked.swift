import Glibc

/// A value that several threads share, guarded by a pthread mutex.
///
/// `Synchronization.Mutex` would do the same job, but on Linux it sits on raw
/// futex calls that ThreadSanitizer cannot see, so every access under it is
/// reported as a race. A pthread mutex keeps the sanitizer's reports meaningful.
///
/// Shared between threads only when the state itself may cross them (the
/// model is swift-nio's `NIOLockedValueBox`): a lock cannot make a
/// non-`Sendable` reference safe, since the state could escape the lock.
public final class Locked<State> {
    // Allocated so that the mutex never moves in memory.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var state: State  // only touched with `mutex` held

    public init(_ state: State) {
        self.state = state
        Sys.initializeMutex(mutex)
    }

    deinit {
        Sys.destroyMutex(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state.
    public func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        Sys.lock(mutex)
        defer { Sys.unlock(mutex) }
        return try body(&state)
    }
}

extension Locked: @unchecked Sendable where State: Sendable {}
