import PPlus2Core
import PPlus2POSIX

/// Asks every known peer for a query at once and gathers the answers in
/// known-peer order: the listing reads as a walk from peer to peer would, but
/// a dead or silent peer costs one timeout for the whole search, not one each.
public struct Search: Sendable {
    public let client: PeerClient
    /// Peers asked at the same time.
    public var maxConcurrentPeers = 16
    /// Matches kept over all peers.
    public var maxMatches = 50_000

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
        public var failures: [(peer: PeerIdentity, failure: IOFailure)] = []
        /// Matches left out by the caps (per peer and in total).
        public var cutMatches = 0
        /// True if some peer's answer was longer than could be read, so more
        /// than `cutMatches` were left out.
        public var cutIsLowerBound = false
        /// Names from the network that were not valid shared-file names, dropped.
        public var invalidNames = 0
        public var askedPeers = 0
    }

    public func run(_ query: String, peers: [PeerIdentity]) -> Result {
        let client = self.client
        let answers = concurrentMap(count: peers.count, maxThreads: maxConcurrentPeers) { index in
            Swift.Result { () throws(IOFailure) in try client.query(query, at: peers[index]) }
        }
        var result = Result(query: query, askedPeers: peers.count)
        for (peer, answer) in zip(peers, answers) {
            switch answer {
            case .success(let answer): result.add(answer, from: peer, maxMatches: maxMatches)
            case .failure(let failure): result.failures.append((peer, failure))
            }
        }
        return result
    }
}

extension Search.Result {
    /// Takes one peer's answer, within the cap on matches.
    mutating func add(_ answer: QueryAnswer, from peer: PeerIdentity, maxMatches: Int) {
        invalidNames += answer.skippedLines
        cutMatches += answer.cutLines
        if answer.reachedByteLimit { cutIsLowerBound = true }
        let room = max(0, maxMatches - matches.count)
        matches += answer.entries.prefix(room).map {
            Search.Match(name: $0.name, peer: peer, size: $0.size, sha256: $0.sha256)
        }
        cutMatches += max(0, answer.entries.count - room)
    }
}
