import PPlus2Core
import PPlus2POSIX

/// Asks every known peer for a query at once and gathers the answers in
/// known-peer order: the listing reads as a walk from peer to peer would, but
/// a dead or silent peer costs one timeout for the whole search, not one each.
///
/// The whole fan-out has one deadline, `deadlineTimeouts` x the client's
/// timeout, whatever the number of dead, silent or dripping peers: an exchange
/// still running then is cut, and a peer not asked yet is counted as not
/// answering. Memory is bounded as answers arrive: each answer is parsed, cut
/// to the room left under `maxMatches`, and its bytes let go, so a thousand
/// peers that each send the largest answer cost what `maxMatches` matches do.
public struct Search: Sendable {
    public let client: PeerClient
    /// Peers asked at the same time (each costs a descriptor and a line's bytes).
    public var maxConcurrentPeers = 256
    /// Matches kept over all peers.
    public var maxMatches = 50_000
    /// The whole search ends this many client timeouts after it starts.
    public var deadlineTimeouts = 2.0

    public init(client: PeerClient) {
        self.client = client
    }

    /// One file one peer offers.
    public struct Match: Equatable, Sendable {
        public let name: String
        public let peer: PeerIdentity
        /// Told by a peer that speaks the extension; nil from a plain peer.
        public let size: Int64?
        /// Told once that peer has hashed the file.
        public let sha256: SHA256Digest?

        public init(name: String, peer: PeerIdentity, size: Int64? = nil, sha256: SHA256Digest? = nil) {
            self.name = name
            self.peer = peer
            self.size = size
            self.sha256 = sha256
        }

        /// Whether `other` is the same content: the same size and hash, both known.
        public func hasSameContent(as other: Match) -> Bool {
            sha256 != nil && sha256 == other.sha256 && size == other.size
        }
    }

    public struct Result: Sendable {
        public let query: String
        public var matches: [Match] = []
        /// Peers that did not answer, with why, in known-peer order.
        public var failures: [(peer: PeerIdentity, failure: Failure)] = []
        /// Matches left out by the caps (per peer and in total).
        public var cutMatches = 0
        /// True if some peer's answer was longer than could be read, so more
        /// than `cutMatches` were left out.
        public var cutIsLowerBound = false
        /// Names from the network that were not valid shared-file names, dropped.
        public var invalidNames = 0
        public var askedPeers = 0
    }

    /// Why a peer is counted as not answering.
    public enum Failure: Error, Equatable, Sendable {
        /// The exchange failed or was cut at the search's deadline.
        case failed(IOFailure)
        /// The deadline passed before the peer's turn came.
        case notAskedInTime

        public var reason: String {
            switch self {
            case .failed(let failure): failure.reason
            case .notAskedInTime: "timed out before its turn"
            }
        }
    }

    /// Asks `peers` (listed in that order) in `askOrder` (indexes into
    /// `peers`; nil: in order), all at once on this thread (`SearchLoop`).
    public func run(_ query: String, peers: [PeerIdentity], askOrder: [Int]? = nil) -> Result {
        let deadline = MonotonicClock.now + deadlineTimeouts * client.timeout
        let order = askOrder ?? Array(peers.indices)
        var gathered = Gathered(maxMatches: maxMatches, peerCount: peers.count)
        var failures = [Failure?](repeating: nil, count: peers.count)
        do {
            var loop = try SearchLoop(
                client: client,
                query: query,
                peers: peers,
                concurrency: maxConcurrentPeers,
                maxMatches: maxMatches,
                deadline: deadline
            )
            loop.run(order: order)
            for (index, answer) in loop.answers.enumerated() {
                if let answer { gathered.add(answer, at: index, from: peers[index]) }
            }
            failures = loop.failures
        } catch {
            failures = Array(repeating: .failed(error), count: peers.count)  // no event poll: no descriptor left
        }
        var result = gathered.result(query: query)
        result.askedPeers = peers.count
        result.failures = zip(peers, failures).compactMap { peer, failure in failure.map { (peer, $0) } }
        return result
    }
}

/// The answers gathered so far, cut to the cap as they arrive.
private struct Gathered {
    let maxMatches: Int
    var perPeer: [[Search.Match]]
    var kept = 0
    var cutMatches = 0
    var cutIsLowerBound = false
    var invalidNames = 0

    init(maxMatches: Int, peerCount: Int) {
        self.maxMatches = maxMatches
        perPeer = Array(repeating: [], count: peerCount)
    }

    mutating func add(_ answer: QueryAnswer, at index: Int, from peer: PeerIdentity) {
        invalidNames += answer.skippedLines
        cutMatches += answer.cutLines
        if answer.reachedByteLimit { cutIsLowerBound = true }
        let room = max(0, maxMatches - kept)
        perPeer[index] = answer.entries.prefix(room).map {
            Search.Match(name: $0.name, peer: peer, size: $0.size, sha256: $0.sha256)
        }
        kept += perPeer[index].count
        cutMatches += max(0, answer.entries.count - room)
    }

    /// In known-peer order.
    func result(query: String) -> Search.Result {
        var result = Search.Result(query: query)
        result.matches = perPeer.flatMap { $0 }
        result.cutMatches = cutMatches
        result.cutIsLowerBound = cutIsLowerBound
        result.invalidNames = invalidNames
        return result
    }
}
