import Foundation
import PPlus2Core
import PPlus2Node
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// A hostile bootstrap that answers every peer-list request with 500 made-up
/// identities (on loopback addresses where nothing listens): the list holds
/// only its share of them, honest peers still get in and are found, searches
/// end in time, and our answers do not spread the junk.
@Suite struct PoisoningTests {
    static func madeUp(_ count: Int) -> [UInt8] {
        let lines = (0..<count).map { "127.0.\(1 + $0 / 250).\(1 + $0 % 250):\(7000 + $0)" }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    @Test func aPoisoningBootstrapCannotCrowdOutHonestPeers() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let hostile = try ScriptedPeer(peers: .init(Self.madeUp(500)))
        defer { hostile.stop() }
        let hostileIdentity = PeerIdentity(address: .loopback, port: hostile.port)!
        let a = try startPeer(in: makeFolder(temporary, "a"), bootstraps: [hostileIdentity], gossipInterval: 60) {
            $0.peerCapacity = 100  // small, so junk could fill it
            $0.gossipEnabled = false
        }
        defer { shutDown(a) }
        a.gossip(with: hostileIdentity)
        let policy = PeerTable.Policy(gossipInterval: 60)
        #expect(a.peers.count == 1 + policy.maxPerSource)  // the bootstrap and its share of junk

        // (a) An honest peer that contacts us is learned at once.
        let honest = try startPeer(in: makeFolder(temporary, "h", files: ["honest.txt": [1]]), gossipInterval: 60) {
            $0.gossipEnabled = false
        }
        defer { shutDown(honest) }
        honest.gossip(with: a.identity)
        #expect(a.peers.contains(honest.identity))

        // (b) An honest peer known to an honest neighbour is learned second-hand.
        let far = try startPeer(in: makeFolder(temporary, "f", files: ["far.txt": [2]]), gossipInterval: 60) {
            $0.gossipEnabled = false
        }
        defer { shutDown(far) }
        far.gossip(with: honest.identity)
        a.gossip(with: honest.identity)
        #expect(a.peers.contains(far.identity))

        // (c) A search ends within its deadline and lists the honest peers' files.
        let started = MonotonicClock.now
        let result = a.search("")
        #expect(MonotonicClock.now - started < 2 * 2 + 0.5)
        #expect(Set(result.matches.map(\.name)).isSuperset(of: ["honest.txt", "far.txt"]))

        // (d) Our answers to others carry at most the bounded number of unverified peers.
        let answer = wireRequest(port: a.port, line: "").lines.compactMap(PeerIdentity.init)
        let junk = answer.filter { $0.address.value >> 8 != 0x7F00_00 }  // not 127.0.0.x
        #expect(junk.count <= policy.maxPerSource)
        #expect(answer.contains(honest.identity))
    }
}
