import PPlus2Core
import PPlus2POSIX
import Synchronization

/// What answers one request line on one port.
protocol Service: Sendable {
    /// A short name for logs and thread names: `peers`, `query`, `download`.
    var name: String { get }
    /// Answers `request` on `connection`, then returns; the connection closes
    /// when the last reference to it goes. Runs on one of the service's workers.
    func serve(_ request: String, on connection: TCPSocket)
}

/// How much the server takes on at once.
struct ServerLimits: Sendable {
    /// Seconds a caller has, from connecting, to send its whole request line.
    var requestLineTimeout = 10.0
    /// Connections still sending their request line, over all ports. Past it
    /// the oldest is closed to make room: a flood of idle connections cannot
    /// keep out a real request.
    var maxPendingConnections = 1024
}

/// The three listeners and their one event loop.
///
/// One thread polls every listener and every connection that has not yet sent
/// its request line, reading without blocking and under the contract's limits
/// (4096 bytes, 10 s from connecting). A connection with a complete line goes
/// to its service's worker pool; when that pool's queue is full it is closed at
/// once. So no silent or slow-drip client can hold a worker, and workers only
/// ever do real work.
final class Server: Sendable {
    private let isStopping = StopFlag()
    private let wakeUp: NonBlockingPipe
    private let loop: Locked<OSThread?> = Locked(nil)
    private let pools: [WorkerPool]

    /// One listener and what serves it.
    struct Endpoint: Sendable {
        let listener: TCPSocket
        let service: any Service
        let workers: Int
        let queueLimit: Int
    }

    /// Starts serving `endpoints`. The listeners belong to the loop from now on
    /// and are closed when it ends.
    init(endpoints: [Endpoint], limits: ServerLimits, log: Log) throws(IOFailure) {
        wakeUp = try NonBlockingPipe()
        var pools: [WorkerPool] = []
        for endpoint in endpoints {
            let pool = try WorkerPool(
                name: endpoint.service.name,
                threads: endpoint.workers,
                queueLimit: endpoint.queueLimit
            )
            pools.append(pool)
        }
        self.pools = pools
        let state = EventLoop(
            endpoints: endpoints,
            pools: pools,
            limits: limits,
            wakeUp: wakeUp,
            isStopping: isStopping,
            log: log
        )
        let thread = try OSThread.start(name: "server") { state.run() }
        loop.withLock { $0 = thread }
    }

    /// Closes the listeners and every waiting connection, and stops the workers
    /// (running answers finish on their own, each within its timeouts).
    func stop() {
        guard isStopping.set() else { return }
        wakeUp.wake()
        loop.withLock { $0.take() }?.join()
        for pool in pools { pool.stop() }
    }
}

/// The loop's own state: touched by the loop thread only.
private final class EventLoop: @unchecked Sendable {
    private struct Pending {
        let connection: TCPSocket
        let endpoint: Int
        let deadline: Double
        var reader = RequestLineReader()
    }

    private var endpoints: [Server.Endpoint]
    private let pools: [WorkerPool]
    private let limits: ServerLimits
    private let wakeUp: NonBlockingPipe
    private let isStopping: StopFlag
    private let log: Log
    private var pending: [Pending] = []
    /// After a failed accept (no descriptor left), listeners rest until then,
    /// instead of waking the loop again at once for the same waiting connection.
    private var acceptingResumesAt = -Double.infinity
    private var buffer = [UInt8](repeating: 0, count: RequestLineReader.maxLineBytes + 2)

    init(
        endpoints: [Server.Endpoint],
        pools: [WorkerPool],
        limits: ServerLimits,
        wakeUp: NonBlockingPipe,
        isStopping: StopFlag,
        log: Log
    ) {
        self.endpoints = endpoints
        self.pools = pools
        self.limits = limits
        self.wakeUp = wakeUp
        self.isStopping = isStopping
        self.log = log
    }

    func run() {
        var polled = PollSet()
        while !isStopping.isSet {
            let now = MonotonicClock.now
            let isAccepting = now >= acceptingResumesAt
            polled.removeAll()
            polled.addReadable(wakeUp.readEnd)
            if isAccepting {
                for endpoint in endpoints { polled.addReadable(endpoint.listener.descriptor) }
            }
            for connection in pending { polled.addReadable(connection.connection.descriptor) }
            // Deadlines grow in arrival order: the first pending one is the nearest.
            var nearest = pending.first?.deadline ?? now + 60
            if !isAccepting { nearest = min(nearest, acceptingResumesAt) }
            polled.wait(timeout: nearest - now)
            if polled.isReady(0) { wakeUp.drain() }
            if isStopping.isSet { break }

            // Requests first (their entries follow the listeners'), then new
            // connections, then deadlines: indexes stay valid until the removal.
            let firstPending = 1 + (isAccepting ? endpoints.count : 0)
            var finished = Set<Int>()
            for index in pending.indices where polled.isReady(firstPending + index) {
                if readRequest(at: index) { finished.insert(index) }
            }
            let after = MonotonicClock.now
            for index in pending.indices where pending[index].deadline <= after { finished.insert(index) }
            if !finished.isEmpty {
                pending = pending.indices.filter { !finished.contains($0) }.map { pending[$0] }
            }
            for index in endpoints.indices where isAccepting && polled.isReady(1 + index) {
                acceptAll(on: index, now: after)
            }
        }
        // Listeners and waiting connections close as the loop lets go of them.
        pending.removeAll()
        endpoints.removeAll()
    }

    /// Takes every waiting connection of a listener.
    private func acceptAll(on endpoint: Int, now: Double) {
        for _ in 0..<256 {  // bounded, so the other listeners get their turn
            let accepted: TCPSocket?
            do {
                accepted = try endpoints[endpoint].listener.accept()
            } catch {
                // EMFILE and the like: the connection stays in the backlog. Free a
                // descriptor by closing the oldest waiting connection, and rest.
                log.warning("accept on the \(endpoints[endpoint].service.name) port failed: \(error)")
                if !pending.isEmpty { pending.removeFirst() }
                acceptingResumesAt = now + 0.1
                return
            }
            guard let connection = accepted else { return }
            if pending.count >= limits.maxPendingConnections {
                pending.removeFirst()  // the oldest waiting connection is closed
            }
            pending.append(
                Pending(connection: connection, endpoint: endpoint, deadline: now + limits.requestLineTimeout)
            )
        }
    }

    /// Reads what a connection sent. Returns true when it leaves the waiting
    /// list: handed to a worker, or closed for breaking a rule.
    private func readRequest(at index: Int) -> Bool {
        let received: Int?
        do {
            received = try buffer.withUnsafeMutableBytes { bytes in
                try pending[index].connection.receiveNow(into: bytes)
            }
        } catch {
            return true  // reset by the caller: close
        }
        guard let count = received else { return false }
        let outcome =
            count == 0
            ? pending[index].reader.finish()
            : pending[index].reader.append(buffer[..<count])
        switch outcome {
        case .needMore:
            return false
        case .invalid(let reason):
            log.debug("closed a \(endpoints[pending[index].endpoint].service.name) request: \(reason)")
            return true
        case .line(let line):
            let connection = pending[index].connection
            let endpoint = pending[index].endpoint
            let service = endpoints[endpoint].service
            if !pools[endpoint].submit({ service.serve(line, on: connection) }) {
                log.debug("\(service.name) workers busy: closed a connection")
            }
            return true
        }
    }
}

/// A flag that goes from false to true once, readable from any thread.
final class StopFlag: Sendable {
    private let value = Atomic(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Sets the flag; true for the one caller that set it first.
    func set() -> Bool {
        !value.exchange(true, ordering: .acquiringAndReleasing)
    }
}
