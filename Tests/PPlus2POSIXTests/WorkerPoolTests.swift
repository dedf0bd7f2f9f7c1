import PPlus2POSIX
import Synchronization
import Testing

/// The pool behind each port's workers: bounded, and holding a job only until
/// a worker takes it.
@Suite struct WorkerPoolTests {
    /// A gate a job waits at until the test opens it.
    final class Gate: Sendable {
        private let lock = ConditionLock()
        private let state = Locked((entered: 0, isOpen: false))

        func pass() {
            lock.withLock {
                state.withLock { $0.entered += 1 }
                lock.broadcast()
                while !state.withLock({ $0.isOpen }) { _ = lock.wait() }
            }
        }

        func open() {
            lock.withLock {
                state.withLock { $0.isOpen = true }
                lock.broadcast()
            }
        }

        /// Waits until `count` jobs reached the gate (at most 5 s).
        func waitForEntered(_ count: Int) -> Bool {
            lock.withLock {
                let deadline = MonotonicClock.now + 5
                while state.withLock({ $0.entered }) < count {
                    if !lock.wait(until: deadline) { return false }
                }
                return true
            }
        }
    }

    final class Token: Sendable {}

    @Test func aTakenJobIsLetGoWhileOthersStillQueue() throws {
        let pool = try WorkerPool(name: "test", threads: 1, queueLimit: 8)
        let first = Gate()
        let second = Gate()
        weak var captured: Token?
        do {
            let token = Token()
            captured = token
            let started = pool.submit { first.pass() }
            #expect(started)
            #expect(first.waitForEntered(1))
            let queued = [
                pool.submit { _ = token },  // runs once the first gate opens
                pool.submit { second.pass() },
                pool.submit {},  // still queued while the worker waits at the second gate
            ]
            #expect(queued == [true, true, true])
        }
        #expect(captured != nil, "the queued job holds what it captured")
        first.open()
        #expect(second.waitForEntered(1))
        #expect(captured == nil, "the pool still held a job a worker had taken and run")
        second.open()
        pool.stop()
        pool.join()
    }

    @Test func aFullQueueRefusesAndAStopHandsBackWhatNeverRan() throws {
        let pool = try WorkerPool(name: "test", threads: 1, queueLimit: 2)
        let gate = Gate()
        let dropped = Atomic(0)
        let ran = Atomic(0)
        let started = pool.submit { gate.pass() }
        #expect(started && gate.waitForEntered(1))
        var accepted: [Bool] = []
        for _ in 0..<3 {
            accepted.append(
                pool.submit({ ran.add(1, ordering: .relaxed) }, ifDropped: { dropped.add(1, ordering: .relaxed) })
            )
        }
        #expect(accepted == [true, true, false], "a job past the queue's limit is refused")
        pool.stop()
        #expect(dropped.load(ordering: .relaxed) == 2)
        let afterStop = pool.submit {}
        #expect(!afterStop, "a stopped pool takes nothing")
        gate.open()
        pool.join()
        #expect(ran.load(ordering: .relaxed) == 0)
    }
}
