import Foundation
import PPlus2Core
import PPlus2Node
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// Claims on the peer-list port are checked against where the caller calls
/// from (the contract's peer list section): a flood of made-up identities
/// from one address takes a few places, never the list.
@Suite struct SpoofedClaimsTests {
    /// Sends `claim` as a peer-list request from `source`, reads the answer.
    static func claim(_ claim: String, to port: UInt16, from source: UInt32) throws {
        let socket = try TCPSocket.connect(address: 0x7F00_0001, port: port, timeout: 2, from: source)
        try socket.send(Array((claim + "\n").utf8), idleTimeout: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while try socket.receive(into: &buffer, timeout: 2) > 0 {}
    }

    static func peer(
        _ temporary: TemporaryFolder,
        _ name: String,
        bind: IPv4Address,
        bootstraps: [PeerIdentity] = [],
        gossip: Bool = false
    ) throws -> Peer {
        try startPeer(in: makeFolder(temporary, name), bootstraps: bootstraps, gossipInterval: 0.2) {
            $0.bind = bind
            $0.gossipEnabled = gossip
        }
    }

    @Test func fifteenHundredSpoofedClaimsDoNotTakeTheListOver() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let neighbour = try Self.peer(temporary, "n", bind: IPv4Address(127, 0, 0, 2))
        defer { shutDown(neighbour) }
        let a = try Self.peer(temporary, "a", bind: .loopback, bootstraps: [neighbour.identity], gossip: true)
        defer { shutDown(a) }
        #expect(
            waitUntil(timeout: 5) { a.peers.entries.first { $0.identity == neighbour.identity }?.isVerified == true }
        )

        // 1,500 made-up identities from 127.0.0.66: its own address on other
        // ports, and loopback addresses where nothing listens.
        let attacker: UInt32 = 0x7F00_0042
        for index in 0..<1500 {
            let claimed =
                index % 2 == 0
                ? "127.0.0.66:\(10_000 + index)" : "127.1.\(index / 250).\(1 + index % 250):\(7000 + index)"
            try Self.claim(claimed, to: a.port, from: attacker)
        }
        let policy = PeerTable.Policy(gossipInterval: 0.2)
        let fromAttacker = a.peers.entries.filter { $0.source == .caller(IPv4Address(attacker)) }
        #expect(fromAttacker.count <= policy.maxPerSource)
        #expect(fromAttacker.filter { $0.origin == .contactedUs }.count <= policy.maxClaimsPerAddress)
        #expect(a.peers.entries.allSatisfy { $0.identity == neighbour.identity || !$0.isVerified })

        // An honest peer that contacts us is learned within 2 gossip intervals.
        let honest = try Self.peer(temporary, "h", bind: IPv4Address(127, 0, 0, 3))
        defer { shutDown(honest) }
        honest.gossip(with: a.identity)
        #expect(waitUntil(timeout: 0.4) { a.peers.contains(honest.identity) })
        #expect(a.peers.entries.first { $0.identity == honest.identity }?.origin == .contactedUs)

        // An honest peer known to an honest neighbour is learned within 10.
        let far = try Self.peer(temporary, "f", bind: IPv4Address(127, 0, 0, 4))
        defer { shutDown(far) }
        far.gossip(with: neighbour.identity)
        #expect(waitUntil(timeout: 2.5) { a.peers.contains(far.identity) })

        // Our answer relays at most 64 unverified identities.
        let answer = wireRequest(port: a.port, line: "").lines.compactMap(PeerIdentity.init)
        let entries = a.peers.entries
        let unverified = answer.filter { peer in entries.first { $0.identity == peer }?.isVerified != true }
        #expect(unverified.count <= policy.maxUnverifiedRelayed)
        #expect(answer.contains(neighbour.identity))
    }

    @Test func aPeerBoundToAnAddressCallsFromIt() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let listener = try TCPSocket.listen(address: 0x7F00_0001, port: 0)
        let port = try listener.localAddress().port
        let bound = try Self.peer(temporary, "b", bind: IPv4Address(127, 0, 0, 3))
        defer { shutDown(bound) }
        let caller = Locked<UInt32?>(nil)
        let thread = ThreadHandle()
        try thread.start(name: "test-accept") {
            guard listener.descriptor.waitUntilReadable(timeout: 5), let connection = try? listener.accept() else {
                return
            }
            caller.withLock { $0 = connection.remoteAddress() }
            connection.descriptor.close()
        }
        bound.gossip(with: PeerIdentity(address: .loopback, port: port)!)
        thread.join()
        #expect(caller.withLock { $0 } == 0x7F00_0003)
        #expect(bound.identity.address == IPv4Address(127, 0, 0, 3))
    }
}
