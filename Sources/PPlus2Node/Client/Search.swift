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

    public struct Match: Equatable, Sendable {
        public let name: String
        public let peer: PeerIdentity
    }

    public struct Result: Sendable {
        public let query: String
        public var matches: [Match] = []
        /// Peers that did not answer, with why, in known-peer order.
        public var failures: [(peer: PeerIdentity, reason: String)] = []
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
        let answers = Locked([Swift.Result<QueryAnswer, IOFailure>?](repeating: nil, count: peers.count))
        let client = self.client
        concurrentForEach(count: peers.count, maxThreads: maxConcurrentPeers) { index in
            let answer = Swift.Result { () throws(IOFailure) in try client.query(query, at: peers[index]) }
            answers.withLock { $0[index] = answer }
        }
        var result = Result(query: query, askedPeers: peers.count)
        for (peer, answer) in zip(peers, answers.withLock { $0 }) {
            switch answer {
            case .success(let answer):
                result.invalidNames += answer.skippedLines
                result.cutMatches += answer.cutLines
                if answer.reachedByteLimit { result.cutIsLowerBound = true }
                for name in answer.names {
                    guard result.matches.count < maxMatches else {
                        result.cutMatches += 1
                        continue
                    }
                    result.matches.append(Match(name: name, peer: peer))
                }
            case .failure(let failure):
                result.failures.append((peer, failure.reason))
            case nil:
                result.failures.append((peer, "not asked"))
            }
        }
        return result
    }
}
