import Testing

@testable import PPlus2Node

/// The event loop's count of connections still sending their line: by
/// address, by /24, in all, and each address's oldest first.
@Suite struct PendingLinesTests {
    @Test func countsAndTheOldestOfTheHeaviestAddress() {
        var pending = PendingLines()
        let a: UInt32 = 0x7F00_0001
        let b: UInt32 = 0x7F00_0002
        let far: UInt32 = 0x0A00_0001
        for token: UInt64 in 1...5 { pending.add(token, from: a) }
        pending.add(6, from: b)
        pending.add(7, from: far)
        #expect(pending.total == 7 && pending.count(of: a) == 5 && pending.count(inSubnetOf: b) == 6)
        #expect(pending.heaviest(matching: { _ in true }) == a)
        #expect(pending.heaviest(matching: { $0 >> 8 == far >> 8 }) == far)
        // Tokens 1 and 2 left (their lines came): the oldest still pending is 3.
        let left: Set<UInt64> = [1, 2]
        pending.remove(from: a)
        pending.remove(from: a)
        #expect(pending.oldest(of: a, limit: 2) { !left.contains($0) } == [3, 4])
        #expect(pending.count(of: a) == 3 && pending.total == 5)
        for _ in 0..<3 { pending.remove(from: a) }
        #expect(pending.count(of: a) == 0 && pending.oldest(of: a, limit: 1) { _ in true }.isEmpty)
    }
}
