/// The connections still sending their request line, counted by caller
/// address, by /24 and in all, with each address's in arrival order: what the
/// event loop needs to close the oldest idle connection of the heaviest
/// address in constant time, however large the flood.
struct PendingLines {
    private var byAddress: [UInt32: Int] = [:]
    private var bySubnet: [UInt32: Int] = [:]
    /// Tokens in arrival order, by address; a token that left is dropped when met.
    private var order: [UInt32: (tokens: [UInt64], head: Int)] = [:]
    private(set) var total = 0

    mutating func add(_ token: UInt64, from address: UInt32) {
        byAddress[address, default: 0] += 1
        bySubnet[address >> 8, default: 0] += 1
        total += 1
        order[address, default: ([], 0)].tokens.append(token)
    }

    /// One of `address`'s connections is no longer pending (its line came, or it ended).
    mutating func remove(from address: UInt32) {
        byAddress.decrement(address)
        bySubnet.decrement(address >> 8)
        total -= 1
        if byAddress[address] == nil { order[address] = nil }
    }

    func count(of address: UInt32) -> Int { byAddress[address, default: 0] }

    func count(inSubnetOf address: UInt32) -> Int { bySubnet[address >> 8, default: 0] }

    /// The address with the most pending connections among those `matching`.
    func heaviest(matching: (UInt32) -> Bool) -> UInt32? {
        byAddress.filter { matching($0.key) }.max { $0.value < $1.value }?.key
    }

    /// Up to `limit` of `address`'s oldest tokens still pending (`isPending`),
    /// dropping those that left on the way.
    mutating func oldest(of address: UInt32, limit: Int, isPending: (UInt64) -> Bool) -> [UInt64] {
        guard var queue = order[address] else { return [] }
        while queue.head < queue.tokens.count && !isPending(queue.tokens[queue.head]) { queue.head += 1 }
        if queue.head > 64 && queue.head * 2 > queue.tokens.count {
            queue.tokens.removeFirst(queue.head)
            queue.head = 0
        }
        order[address] = queue
        return Array(queue.tokens[queue.head...].lazy.filter(isPending).prefix(limit))
    }
}
