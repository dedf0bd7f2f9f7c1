import PPlus2Core
import PPlus2POSIX

/// The client side of the three exchanges: connect, send one line, read the
/// answer until the callee closes. Every step has a timeout (`timeout` to
/// connect and between two reads, four times that for a whole list or query
/// answer) and every answer a size cap, so a silent, slow or endless peer
/// costs at most one timeout and a bounded amount of memory.
public struct PeerClient: Sendable {
    public let timeout: Double

    public init(timeout: Double) {
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

    /// Port p+1: the names matching `query` that the callee offers.
    public func query(_ query: String, at peer: PeerIdentity) throws(IOFailure) -> QueryAnswer {
        let bytes = try exchange(query, with: peer, port: peer.queryPort, maxBytes: QueryAnswer.maxBytes)
        return QueryAnswer(parsing: bytes)
    }

    /// Opens the download port and sends the name; the caller reads the bytes.
    func openDownload(_ name: String, from peer: PeerIdentity) throws(IOFailure) -> TCPSocket {
        let connection = try TCPSocket.connect(address: peer.address.value, port: peer.downloadPort, timeout: timeout)
        try connection.send(Array((name + "\n").utf8), idleTimeout: timeout)
        return connection
    }

    /// One request line out, the whole answer back (at most `maxBytes + 1`
    /// bytes are kept, so the parser can tell that the answer was cut).
    private func exchange(
        _ line: String,
        with peer: PeerIdentity,
        port: UInt16,
        maxBytes: Int
    ) throws(IOFailure)
        -> [UInt8]
    {
        let deadline = MonotonicClock.now + 4 * timeout
        let connection = try TCPSocket.connect(address: peer.address.value, port: port, timeout: timeout)
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
