import Synchronization

/// A fixed set of threads that run submitted jobs, with a bounded queue.
///
/// `submit` never blocks: when every thread is busy and the queue is full it
/// returns false, and the caller sheds the work (a server closes the connection
/// at once instead of queueing it forever).
public final class WorkerPool: ThreadOwner, @unchecked Sendable {
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
    public func stop() {
        lock.withLock {
            isStopping = true
            queue.removeAll()
            head = 0
            lock.broadcast()
        }
    }

    /// Waits for every worker to end: each finishes its running job first, so
    /// the owner ends long jobs (a transfer is reset) before it joins.
    public func join() {
        let workers: [OSThread] = lock.withLock {
            defer { threads.removeAll() }
            return threads
        }
        for worker in workers { worker.join() }
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

/// `body(index)` for every index in `0..<count`, run on at most `maxThreads`
/// threads of its own, in index order once all are done. For fan-outs such as
/// asking every known peer: one slow index delays only its own thread.
public func concurrentMap<Value: Sendable>(
    count: Int,
    maxThreads: Int,
    _ body: @escaping @Sendable (Int) -> Value
) -> [Value] {
    guard count > 0 else { return [] }
    let results = Locked([Value?](repeating: nil, count: count))
    let next = SharedCounter()
    let work: @Sendable () -> Void = {
        while let index = next.take(below: count) {
            let value = body(index)
            results.withLock { $0[index] = value }
        }
    }
    var threads: [OSThread] = []
    for _ in 1..<min(count, max(1, maxThreads)) {
        if let thread = try? OSThread.start(name: "fan-out", work) { threads.append(thread) }
    }
    work()  // the calling thread takes part: every index is run even if no thread started
    for thread in threads { thread.join() }
    return results.withLock { $0.map { $0! } }
}

private final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next index, or nil once `limit` is reached.
    func take(below limit: Int) -> Int? {
        let index = value.wrappingAdd(1, ordering: .relaxed).oldValue
        return index < limit ? index : nil
    }
}
