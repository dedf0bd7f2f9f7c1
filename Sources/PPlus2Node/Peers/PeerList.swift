import PPlus2Core
import PPlus2POSIX

/// The peer's list of known peers, shared by the services, the gossip loop and
/// the console: the pure `PeerTable` rules behind a mutex, with the clock
/// read here so the table itself stays testable.
public final class PeerList: Sendable {
    private let table: Locked<PeerTable>

    public init(policy: PeerTable.Policy, selfFilter: SelfFilter) {
        table = Locked(PeerTable(policy: policy, selfFilter: selfFilter))
    }

    /// The known peers' identities, in the table's order.
    public var identities: [PeerIdentity] { table.withLock { $0.peers } }
    public var entries: [PeerTable.Entry] { table.withLock { $0.entries } }
    public var count: Int { table.withLock { $0.count } }
    public var dropped: [PeerTable.DroppedPeer] { table.withLock { $0.dropped } }

    public func addSaved(_ peers: [PeerIdentity]) { table.withLock { _ = $0.addSaved(peers) } }

    public func contains(_ peer: PeerIdentity) -> Bool { table.withLock { $0.contains(peer) } }

    public func addBootstrap(_ peer: PeerIdentity) { table.withLock { _ = $0.addBootstrap(peer) } }

    /// A caller at `caller` claims to be `peer` (`PeerTable.learnClaim`).
    public func learnClaim(_ peer: PeerIdentity, from caller: IPv4Address) {
        let now = MonotonicClock.now
        table.withLock { _ = $0.learnClaim(peer, from: caller, now: now) }
    }

    /// Returns true if the peer was new.
    @discardableResult
    public func learnDiscovered(_ peer: PeerIdentity) -> Bool {
        table.withLock { $0.learnDiscovered(peer) }
    }

    @discardableResult
    public func forget(_ peer: PeerIdentity, reason: PeerTable.DropReason) -> Bool {
        let now = MonotonicClock.now
        return table.withLock { $0.forget(peer, reason: reason, now: now) }
    }

    /// Peers named in `source`'s answer (nil: a caller that does not count one).
    public func learnSecondHand(_ peers: [PeerIdentity], from source: PeerIdentity? = nil) {
        let source = source.map(PeerTable.Source.peer)
        let now = MonotonicClock.now
        table.withLock { _ = $0.learnSecondHand(peers, from: source, now: now) }
    }

    /// The peers a search asks, in listing order, and the order to ask them in.
    public func searchPlan(unverifiedBudget: Int) -> (peers: [PeerIdentity], askOrder: [Int]) {
        table.withLock { $0.searchPlan(unverifiedBudget: unverifiedBudget) }
    }

    /// The peers worth remembering across a restart: those that answered or
    /// contacted us, and the bootstraps.
    public var identitiesWorthSaving: [PeerIdentity] {
        table.withLock { $0.entries.filter { $0.isVerified || $0.origin == .bootstrap }.map(\.identity) }
    }

    public func answer(excluding caller: PeerIdentity?) -> [PeerIdentity] {
        table.withLock { $0.answer(excluding: caller) }
    }

    public func nextToContact() -> PeerIdentity? {
        let now = MonotonicClock.now
        return table.withLock { $0.nextToContact(now: now) }
    }

    public func recordSuccess(_ peer: PeerIdentity) {
        let now = MonotonicClock.now
        table.withLock { $0.recordSuccess(peer, now: now) }
    }

    @discardableResult
    public func recordFailure(_ peer: PeerIdentity) -> Bool {
        let now = MonotonicClock.now
        return table.withLock { $0.recordFailure(peer, now: now) }
    }
}
