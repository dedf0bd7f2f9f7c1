import PPlus2Core
import PPlus2POSIX

/// Keeps the peer list alive: one contact per interval for the whole peer.
///
/// Each turn takes the peer the table names (`PeerTable.nextToContact`: six
/// turns of eight a peer heard of second-hand, newest first; one a verified
/// peer alone; one a verified peer or a caller; those in back-off skipped),
/// sends it our identity on its port p, and merges
/// the answer into our list;
/// a failed contact counts towards dropping that peer. The next turn starts
/// one interval after this one started, however long the contact took.
///
/// The first turn waits a moment (a quarter interval, at most 0.25 s): peers
/// started at once (a lab booting, a script) are then listening when their
/// neighbours first call, instead of costing each of them an interval.
final class GossipLoop: ThreadOwner, @unchecked Sendable {
    private let peers: PeerList
    private let client: PeerClient
    private let identity: PeerIdentity
    private let interval: Double
    private let log: Log
    private let thread = ThreadHandle()
    private let sleeper = ConditionLock()
    /// Called after each contact (the peer saves its list). Set once, before `start`.
    var afterContact: @Sendable () -> Void = {}

    init(peers: PeerList, client: PeerClient, identity: PeerIdentity, configuration: Configuration, log: Log) {
        self.peers = peers
        self.client = client
        self.identity = identity
        self.interval = configuration.gossipInterval
        self.log = log
    }

    func start() throws(IOFailure) {
        try thread.start(name: "gossip") { [self] in run() }
    }

    func stop() {
        guard thread.requestStop() else { return }
        sleeper.withLock { sleeper.broadcast() }
    }

    /// Waits for the loop to end: at most one contact, bounded by the client's timeouts.
    func join() {
        thread.join()
    }

    private func run() {
        pause(until: MonotonicClock.now + min(0.25, interval / 4))
        while !thread.isStopping {
            let started = MonotonicClock.now
            if let peer = peers.nextToContact() {
                contact(peer)
                afterContact()
            }
            pause(until: started + interval)
        }
    }

    /// Sleeps until `time` or until the loop is stopped.
    private func pause(until time: Double) {
        sleeper.withLock {
            while !thread.isStopping && sleeper.wait(until: time) {}
        }
    }

    /// One exchange with one peer.
    func contact(_ peer: PeerIdentity) {
        do {
            let answer = try client.fetchPeers(from: peer, advertising: identity)
            peers.recordSuccess(peer)
            peers.learnSecondHand(answer.peers, from: peer)
            log.debug("gossip with \(peer): \(answer.peers.count) peers in its list")
        } catch {
            let dropped = peers.recordFailure(peer)
            log.debug("gossip with \(peer) failed: \(error.reason)\(dropped ? "; dropped" : "")")
        }
    }
}
