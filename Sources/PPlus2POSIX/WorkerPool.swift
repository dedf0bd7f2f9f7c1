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
    // Guarded by `lock`. A slot is emptied when its job is taken: the pool
    // never holds on to a job (nor to what it captured, a connection) that a
    // worker is running or has run.
    private var queue: [Queued?] = []
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

    private struct Queued {
        let run: Job
        let dropped: Job
    }

    /// Queues `job`; false if the queue is full or the pool is stopping (the
    /// caller still owns what `job` captured). If the pool stops before a
    /// worker takes it, `dropped` runs instead, on the thread that stops it:
    /// what the job owns (a connection) is never let go silently.
    public func submit(_ job: @escaping Job, ifDropped dropped: @escaping Job = {}) -> Bool {
        lock.withLock {
            guard !isStopping, queue.count - head < queueLimit else { return false }
            queue.append(Queued(run: job, dropped: dropped))
            lock.signal()
            return true
        }
    }

    /// Drops queued jobs (running their `dropped` handlers) and lets each
    /// worker end after its running job.
    public func stop() {
        let unstarted: [Queued] = lock.withLock {
            isStopping = true
            defer {
                queue.removeAll()
                head = 0
                lock.broadcast()
            }
            return queue[head...].compactMap { $0 }
        }
        for job in unstarted { job.dropped() }
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

    /// Takes the next job out of the queue: from then on only the worker holds it.
    private func nextJob() -> Job? {
        lock.withLock {
            while !isStopping && head == queue.count { lock.wait() }
            if isStopping { return nil }
            let job = queue[head].take()
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64 && head * 2 >= queue.count {
                queue.removeFirst(head)  // the emptied slots, at most as many as the live ones
                head = 0
            }
            return job?.run
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
