import Synchronization

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
