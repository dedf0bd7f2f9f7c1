import PPlus2Core
import PPlus2POSIX

/// One search's exchanges, all on the calling thread, driven by readiness
/// (`EventPoll`): every planned peer is asked at once, up to `concurrency`
/// connections, in the ask order; answers are parsed as they stream in
/// (`QueryAnswerReader`), under the search's match cap and one deadline. A
/// dripping or silent peer holds a descriptor and a line's bytes, nothing
/// more, whatever its place in the list.
struct SearchLoop {
    /// One peer's exchange: the extended question first, then, if the peer
    /// turns out plain, the plain one on a new connection.
    final class Exchange {
        let index: Int
        let peer: PeerIdentity
        var socket: TCPSocket
        var reader: QueryAnswerReader
        var isConnected = false
        var lastActivity: Double

        init(index: Int, peer: PeerIdentity, socket: TCPSocket, reader: QueryAnswerReader, now: Double) {
            self.index = index
            self.peer = peer
            self.socket = socket
            self.reader = reader
            lastActivity = now
        }

        var isExtended: Bool { reader.answer.isExtended }
    }

    let client: PeerClient
    let query: String
    let peers: [PeerIdentity]
    let concurrency: Int
    let deadline: Double
    /// Matches the search may still keep, over all peers.
    var room: Int
    var answers: [QueryAnswer?]
    var failures: [Search.Failure?]
    private let poll: EventPoll
    private var active: [UInt64: Exchange] = [:]
    private var nextToken: UInt64 = 1
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(
        client: PeerClient,
        query: String,
        peers: [PeerIdentity],
        concurrency: Int,
        maxMatches: Int,
        deadline: Double
    )
        throws(IOFailure)
    {
        self.client = client
        self.query = query
        self.peers = peers
        self.concurrency = max(1, concurrency)
        self.deadline = deadline
        room = maxMatches
        answers = Array(repeating: nil, count: peers.count)
        failures = Array(repeating: nil, count: peers.count)
        poll = try EventPoll()
    }

    /// Asks every peer in `order`; returns when all answered or failed, or at the deadline.
    mutating func run(order: [Int]) {
        var waiting = order[...]
        while MonotonicClock.now < deadline && (!waiting.isEmpty || !active.isEmpty) {
            while active.count < concurrency, let index = waiting.popFirst() {
                start(index, extended: !client.plainPeers.contains(peers[index]))
            }
            let now = MonotonicClock.now
            for ready in poll.wait(timeout: min(deadline - now, client.timeout, 0.25)) {
                guard let exchange = active[ready.token] else { continue }
                step(exchange, token: ready.token)
            }
            failIdle(now: MonotonicClock.now)
        }
        // The deadline: who had not answered is counted as not answering.
        for (token, exchange) in active { end(exchange, token: token, .failed(.timedOut(.readingTheAnswer))) }
        for index in waiting { failures[index] = .notAskedInTime }
    }

    private mutating func start(_ index: Int, extended: Bool) {
        let peer = peers[index]
        do {
            let socket = try TCPSocket.startConnect(
                address: peer.address.value,
                port: peer.queryPort,
                from: client.source?.value
            )
            let reader = QueryAnswerReader(extended: extended)
            let exchange = Exchange(index: index, peer: peer, socket: socket, reader: reader, now: MonotonicClock.now)
            let token = nextToken
            nextToken += 1
            try poll.add(socket.descriptor, token: token, for: .writable)
            active[token] = exchange
        } catch {
            failures[index] = .failed(error)
        }
    }

    /// Moves one exchange on: connected (send the question), or data to read.
    private mutating func step(_ exchange: Exchange, token: UInt64) {
        exchange.lastActivity = MonotonicClock.now
        guard exchange.isConnected else { return connected(exchange, token: token) }
        while true {
            let received: Int?
            do {
                received = try buffer.withMutableBytes { bytes throws(IOFailure) in
                    try exchange.socket.receiveNow(into: bytes)
                }
            } catch {
                return end(exchange, token: token, .failed(error))
            }
            guard let count = received else { return }  // nothing more for now
            let status =
                count == 0
                ? exchange.reader.finish(room: &room) : exchange.reader.consume(buffer[..<count], room: &room)
            switch status {
            case .reading: continue
            case .done: return end(exchange, token: token, nil)
            case .notExtended:
                // A plain peer: asked again in plain P+2, remembered until its next failure.
                client.plainPeers.insert(exchange.peer)
                room += exchange.reader.answer.entries.count
                end(exchange, token: token, nil, keep: false)
                return start(exchange.index, extended: false)
            }
        }
    }

    private mutating func connected(_ exchange: Exchange, token: UInt64) {
        if let error = exchange.socket.connectionError() { return end(exchange, token: token, .failed(error)) }
        exchange.isConnected = true
        let line = (exchange.isExtended ? Extension.findRequest(query) : query) + "\n"
        do throws(IOFailure) {
            // A request line is at most 4 KiB: a new socket's buffer takes it whole.
            let sent = try Array(line.utf8).withBytes { bytes throws(IOFailure) in try exchange.socket.sendNow(bytes) }
            guard case .processed(line.utf8.count) = sent else { throw .timedOut(.writing) }
        } catch {
            return end(exchange, token: token, .failed(error))
        }
        poll.change(exchange.socket.descriptor, token: token, to: .readable)
    }

    /// Peers silent for a whole timeout fail, as a blocking read would.
    private mutating func failIdle(now: Double) {
        for (token, exchange) in active where now - exchange.lastActivity >= client.timeout {
            end(exchange, token: token, .failed(.timedOut(exchange.isConnected ? .reading : .connecting)))
        }
    }

    /// Ends an exchange: its answer kept (a failure recorded instead), its connection closed.
    private mutating func end(_ exchange: Exchange, token: UInt64, _ failure: Search.Failure?, keep: Bool = true) {
        active[token] = nil
        poll.remove(exchange.socket.descriptor)
        exchange.socket.descriptor.close()
        guard keep else { return }
        if let failure {
            failures[exchange.index] = failure
            client.plainPeers.remove(exchange.peer)  // it may come back as another program
        } else {
            answers[exchange.index] = exchange.reader.answer
        }
        if failure != nil { room += exchange.reader.answer.entries.count }  // a failed answer keeps nothing
    }
}
