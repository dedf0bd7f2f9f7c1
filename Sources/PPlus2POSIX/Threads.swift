import Glibc

/// A thread we own. Blocking I/O (accept loops, connections, the console) runs
/// on such threads, never on Swift concurrency's shared pool, which has only as
/// many threads as cores and stalls when one of them blocks.
public struct OSThread: @unchecked Sendable {
    // pthread_t is a plain integer on Linux: sending it between threads is safe.
    private let handle: pthread_t

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(IOFailure) -> OSThread {
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body))
        do {
            let handle = try Sys.createThread(box.toOpaque()) { argument in
                let box = Unmanaged<ThreadBody>.fromOpaque(argument!).takeRetainedValue()
                Sys.nameThisThread(box.name)
                box.body()
                return nil
            }
            return OSThread(handle: handle)
        } catch {
            box.release()
            throw error
        }
    }

    /// Lowers the calling thread's priority to the lowest (nice 19): for
    /// background work such as hashing, which must never slow an answer.
    public static func lowerPriorityOfThisThread() {
        Sys.lowerThisThreadsPriority(to: 19)
    }

    /// Waits for the thread to finish. Call exactly once per thread: `ThreadHandle`
    /// makes sure of it.
    func join() {
        Sys.joinThread(handle)
    }
}

private final class ThreadBody {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// A mutex with a condition variable on the monotonic clock, for threads that
/// wait for work or for a deadline. (`Synchronization.Mutex` has no condition.)
public final class ConditionLock: @unchecked Sendable {
    // The pthread objects must not move: they live in allocated memory.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        Sys.initializeMutex(mutex)
        Sys.initializeMonotonicCondition(condition)
    }

    deinit {
        Sys.destroyCondition(condition)
        Sys.destroyMutex(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        Sys.lock(mutex)
        defer { Sys.unlock(mutex) }
        return try body()
    }

    /// Waits for a signal or until the monotonic `deadline`; call with the lock held.
    /// Returns false once the deadline has passed. Wake-ups may be spurious:
    /// callers re-check their condition in a loop.
    @discardableResult
    public func wait(until deadline: Double? = nil) -> Bool {
        guard let deadline else {
            Sys.wait(condition, mutex)
            return true
        }
        if deadline <= MonotonicClock.now { return false }
        return Sys.wait(condition, mutex, until: deadline)
    }

    public func signal() { Sys.signal(condition) }
    public func broadcast() { Sys.broadcast(condition) }
}
