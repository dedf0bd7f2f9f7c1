import PPlus2POSIX
import Testing

@testable import PPlus2Node

/// The plan behind a download's ranges, without sockets.
@Suite struct RangePlanTests {
    @Test func rangesCoverTheRestInFileOrder() {
        let plan = RangePlan(from: 10, size: 35, rangeSize: 10, sources: 1)
        var taken: [Range<Int64>] = []
        while let range = plan.next() {
            taken.append(range)
            plan.finished(range)
        }
        #expect(taken == [10..<20, 20..<30, 30..<35])
        #expect(plan.isComplete && plan.contiguousEnd == 35)
    }

    /// A resume from the middle of a piece: the first range ends at the next
    /// multiple of the range size, so every later range holds whole pieces.
    @Test func rangesAreCutAtMultiplesOfTheirSizeFromTheFilesStart() {
        let plan = RangePlan(from: 13, size: 45, rangeSize: 10, sources: 2)
        var taken: [Range<Int64>] = []
        while let range = plan.next() {
            taken.append(range)
            plan.finished(range)
        }
        #expect(taken == [13..<20, 20..<30, 30..<40, 40..<45])
    }

    /// A source not yet proven honest takes one piece at a time, the last
    /// one still waiting (the piece whose check reaches the file's SHA-256);
    /// a proven source takes ranges from the front.
    @Test func anUnprovenSourceTakesTheLastPieceFirst() {
        let plan = RangePlan(from: 0, size: 38, rangeSize: 20, sources: 2)
        #expect(plan.next(onePieceOf: 4) == 36..<38, "the last piece, shorter")
        #expect(plan.next() == 0..<20, "a proven source takes the first range")
        #expect(plan.next(onePieceOf: 8) == 32..<36, "the last piece still waiting, cut where the range was")
        #expect(plan.next(onePieceOf: 64) == 20..<32, "never past the range")
    }

    /// The last piece of a liar goes back first in line; the next source not
    /// yet proven is still asked for the file's last piece, not a middle one.
    @Test func aFailedLastPieceIsStillTheFirstAnUnprovenSourceTakes() {
        let plan = RangePlan(from: 0, size: 40, rangeSize: 20, sources: 2)
        let last = plan.next(onePieceOf: 4)
        #expect(last == 36..<40)
        plan.failed(36..<40, writtenUpTo: 36)
        #expect(plan.next(onePieceOf: 4) == 36..<40)
        #expect(plan.next() == 0..<20, "a proven source still takes from the front")
    }

    @Test func aFailedRangeKeepsWhatWasWrittenAndGoesBackFirst() {
        let plan = RangePlan(from: 0, size: 30, rangeSize: 10, sources: 2)
        let first = plan.next()!
        let second = plan.next()!
        plan.finished(second)
        plan.wrote(first, upTo: 4)
        #expect(plan.writtenEnd == 4)
        plan.failed(first, writtenUpTo: 4)
        #expect(plan.contiguousEnd == 4, "the bytes written before the failure count")
        #expect(plan.next() == 4..<10, "the rest of the failed range is next in line")
        #expect(plan.next() == 20..<30)
        #expect(!plan.isComplete)
    }

    @Test func aHoleStopsWhatIsKept() {
        let plan = RangePlan(from: 0, size: 30, rangeSize: 10, sources: 2)
        let first = plan.next()!
        let second = plan.next()!
        plan.finished(second)
        plan.failed(first, writtenUpTo: 0)
        #expect(plan.contiguousEnd == 0, "10..<20 is done, but 0..<10 is a hole before it")
        #expect(plan.progress(waitingUpTo: 0).bytes == 10)
    }

    @Test func nothingLeftStillAsksOnce() {
        let plan = RangePlan(from: 7, size: 7, rangeSize: 10, sources: 1)
        let range = plan.next()
        #expect(range == 7..<7)
        if let range { plan.finished(range) }
        #expect(plan.next() == nil)
        #expect(plan.isComplete)
    }

    @Test func aSourceWaitsForARangeInFlightAndEndsWithIt() throws {
        let plan = RangePlan(from: 0, size: 10, rangeSize: 10, sources: 2)
        let range = try #require(plan.next())
        let second = Locked<Range<Int64>??>(nil)
        let waiter = ThreadHandle()
        try waiter.start(name: "test-range") {
            let next = plan.next()  // waits: nothing waiting, one in flight
            second.withLock { $0 = .some(next) }
        }
        plan.failed(range, writtenUpTo: 6)  // its source failed: the rest goes to the waiting one
        waiter.join()
        #expect(second.withLock { $0 } == .some(6..<10))
    }
}
