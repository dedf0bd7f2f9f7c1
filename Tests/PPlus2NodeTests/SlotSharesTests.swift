import Testing

@testable import PPlus2Node

/// The event loop's admission: how many slots each caller address holds on
/// each port, taken by the loop and given back by the worker.
@Suite struct SlotSharesTests {
    @Test func anAddressHoldsAtMostItsShareOnEachPort() {
        let shares = SlotShares()
        let one: UInt32 = 0x7F00_0001
        let two: UInt32 = 0x7F00_0002
        #expect(shares.take(0, one, limit: 2) && shares.take(0, one, limit: 2))
        #expect(!shares.take(0, one, limit: 2), "a third slot of the same address waits its turn")
        #expect(shares.take(0, two, limit: 2), "another address is not held back")
        #expect(shares.take(1, one, limit: 2), "another port counts on its own")
        shares.give(0, one)
        #expect(shares.take(0, one, limit: 2), "a slot given back is free again")
        #expect(!shares.take(0, one, limit: 2))
    }
}
