import CPPlus2Shims
import Glibc
import Synchronization

/// A thread we own. Blocking I/O (accept loops, connections, the console) runs
/// on such threads, never on Swift concurrency's shared pool, which has only as
/// many threads as cores and stalls when one of them blocks.
public struct OSThread: @unchecked Sendable {
    // pthread_t is a plain integer on Linux: sending it between threads is safe.
    private let handle: pthread_t

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(IOFailure) -> OSThread {
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body))
        var handle = pthread_t()
        let result = pthread_create(
            &handle,
            nil,
            { argument in
                let box = Unmanaged<ThreadBody>.fromOpaque(argument!).takeRetainedValue()
                cpplus2_name_this_thread(box.name)
                box.body()
                return nil
            },
            box.toOpaque()
        )
        guard result == 0 else {
            box.release()
            throw IOFailure.system(call: "pthread_create", errno: Errno(result))
        }
        return OSThread(handle: handle)
    }

    /// Waits for the thread to finish. Call at most once per thread, or `detach`.
    public func join() {
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread finish on its own; it can no longer be joined.
    public func detach() {
        _ = pthread_detach(handle)
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
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a signal or until the monotonic `deadline`; call with the lock held.
    /// Returns false once the deadline has passed. Wake-ups may be spurious:
    /// callers re-check their condition in a loop.
    @discardableResult
    public func wait(until deadline: Double? = nil) -> Bool {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return true
        }
        if deadline <= MonotonicClock.now { return false }
        let whole = deadline.rounded(.down)
        var time = timespec(tv_sec: Int(whole), tv_nsec: Int((deadline - whole) * 1e9))
        return pthread_cond_timedwait(condition, mutex, &time) != ETIMEDOUT
    }

    public func signal() { pthread_cond_signal(condition) }
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// A fixed set of threads that run submitted jobs, with a bounded queue.
///
/// `submit` never blocks: when every thread is busy and the queue is full it
/// returns false, and the caller sheds the work (a server closes the connection
/// at once instead of queueing it forever).
public final class WorkerPool: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    private let lock = ConditionLock()
    private let queueLimit: Int
    // Guarded by `lock`.
    private var queue: [Job] = []
    private var head = 0
    private var isStopping = false
    private var threads: [OSThread] = []

    /// Starts `threads` workers named `name`.
    public init(name: String, threads count: Int, queueLimit: Int) throws(IOFailure) {
        self.queueLimit = queueLimit
        var started: [OSThread] = []
        for index in 0..<count {
            started.append(try OSThread.start(name: "\(name)-\(index)") { [self] in self.runWorker() })
        }
        lock.withLock { threads = started }
    }

    /// Queues `job`; false if the queue is full or the pool is stopping.
    public func submit(_ job: @escaping Job) -> Bool {
        lock.withLock {
            guard !isStopping, queue.count - head < queueLimit else { return false }
            queue.append(job)
            lock.signal()
            return true
        }
    }

    /// Drops queued jobs and lets each worker end after its running job.
    /// Does not wait for them: a job may be in the middle of a long transfer,
    /// which ends by itself within its own timeouts.
    public func stop() {
        let workers: [OSThread] = lock.withLock {
            isStopping = true
            queue.removeAll()
            head = 0
            lock.broadcast()
            defer { threads.removeAll() }
            return threads
        }
        for worker in workers { worker.detach() }
    }

    private func runWorker() {
        while let job = nextJob() { job() }
    }

    private func nextJob() -> Job? {
        lock.withLock {
            while !isStopping && head == queue.count { lock.wait() }
            if isStopping { return nil }
            let job = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            return job
        }
    }
}

/// Runs `body(index)` for every index in `0..<count` on at most `maxThreads`
/// threads of its own, and returns when all are done. For fan-outs such as
/// asking every known peer: one slow index delays only its own thread.
public func concurrentForEach(count: Int, maxThreads: Int, _ body: @escaping @Sendable (Int) -> Void) {
    guard count > 0 else { return }
    let next = SharedCounter()
    let work: @Sendable () -> Void = {
        while let index = next.take(below: count) { body(index) }
    }
    var threads: [OSThread] = []
    for _ in 1..<min(count, max(1, maxThreads)) {
        if let thread = try? OSThread.start(name: "fan-out", work) { threads.append(thread) }
    }
    work()  // the calling thread takes part: at least one thread always runs
    for thread in threads { thread.join() }
}

private final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next index, or nil once `limit` is reached.
    func take(below limit: Int) -> Int? {
        let index = value.wrappingAdd(1, ordering: .relaxed).oldValue
        return index < limit ? index : nil
    }
}
