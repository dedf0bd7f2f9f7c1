import PPlus2Core
import PPlus2POSIX

/// The client side of the three exchanges: connect, send one line, read the
/// answer until the callee closes. Every step has a timeout (`timeout` to
/// connect and between two reads, four times that for a whole list or query
/// answer) and every answer a size cap, so a silent, slow or endless peer
/// costs at most one timeout and a bounded amount of memory.
public struct PeerClient: Sendable {
    public let timeout: Double
    /// Peers that answered a `\u{1}find` as plain P+2 peers do, remembered until
    /// their next failure, so a plain peer costs the extra round trip once.
    let plainPeers = PlainPeers()

    /// The local address outgoing connections come from: the `--bind`
    /// address when it is not 0.0.0.0 (so that what this peer claims is where
    /// it calls from); nil lets the kernel pick by the route.
    public let source: IPv4Address?

    public init(timeout: Double, source: IPv4Address? = nil) {
        self.source = source
        self.timeout = timeout
    }

    /// Port p: sends our identity, returns the peers the callee knows.
    public func fetchPeers(
        from peer: PeerIdentity,
        advertising identity: PeerIdentity
    ) throws(IOFailure)
        -> PeerListAnswer
    {
        let bytes = try exchange(
            identity.description,
            with: peer,
            port: peer.peerListPort,
            maxBytes: PeerListAnswer.maxBytes
        )
        return PeerListAnswer(parsing: bytes)
    }

    /// Opens the download port and sends `request` (a name, or an extended
    /// `\u{1}get`); the caller reads the answer.
    func openDownload(_ request: String, from peer: PeerIdentity) throws(IOFailure) -> TCPSocket {
        let connection = try TCPSocket.connect(
            address: peer.address.value,
            port: peer.downloadPort,
            timeout: timeout,
            from: source?.value
        )
        try connection.send(Array((request + "\n").utf8), idleTimeout: timeout)
        return connection
    }

    /// One request line out, the whole answer back (at most `maxBytes + 1`
    /// bytes are kept, so the parser can tell that the answer was cut).
    private func exchange(
        _ line: String,
        with peer: PeerIdentity,
        port: UInt16,
        maxBytes: Int,
        deadline: Double = .infinity
    ) throws(IOFailure)
        -> [UInt8]
    {
        let deadline = min(MonotonicClock.now + 4 * timeout, deadline)
        let connectTimeout = min(timeout, deadline - MonotonicClock.now)
        guard connectTimeout > 0 else { throw .timedOut(.connecting) }
        let connection = try TCPSocket.connect(
            address: peer.address.value,
            port: port,
            timeout: connectTimeout,
            from: source?.value
        )
        try connection.send(Array((line + "\n").utf8), idleTimeout: timeout)
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while answer.count <= maxBytes {
            let remaining = deadline - MonotonicClock.now
            guard remaining > 0 else { throw .timedOut(.readingTheAnswer) }
            let count = try connection.receive(into: &chunk, timeout: min(timeout, remaining))
            if count == 0 { break }
            answer.append(contentsOf: chunk[..<min(count, maxBytes + 1 - answer.count)])
        }
        return answer
    }
}

/// The peers known to speak plain P+2 only.
final class PlainPeers: Sendable {
    private let peers = Locked(Set<PeerIdentity>())

    func contains(_ peer: PeerIdentity) -> Bool { peers.withLock { $0.contains(peer) } }
    func insert(_ peer: PeerIdentity) { _ = peers.withLock { $0.insert(peer) } }
    func remove(_ peer: PeerIdentity) { _ = peers.withLock { $0.remove(peer) } }
}
