import PPlus2Core
import PPlus2POSIX

/// The loop's own state: touched by the loop thread only.
final class EventLoop: @unchecked Sendable {
    private struct Pending {
        let connection: Connection
        let endpoint: Int
        let deadline: Double
        var reader = RequestLineReader()
    }

    private var endpoints: [Server.Endpoint]
    private let pools: [WorkerPool]
    private let limits: Configuration.ServerLimits
    private let inService: InService
    private let wakeUp: NonBlockingPipe
    private let thread: ThreadHandle
    private let log: Log
    private var pending: [Pending] = []
    /// Complete requests whose caller address holds its share of the service's
    /// slots already: started, in order, as its slots free up.
    private var waiting: [Ready] = []
    private let shares = SlotShares()

    private struct Ready {
        let connection: Connection
        let endpoint: Int
        let line: String
        let address: UInt32
        let deadline: Double
    }
    /// After a failed accept (no descriptor left), listeners rest until then,
    /// instead of waking the loop again at once for the same waiting connection.
    private var acceptingResumesAt = -Double.infinity
    private var buffer = [UInt8](repeating: 0, count: RequestLineReader.maxLineBytes + 2)

    init(
        endpoints: [Server.Endpoint],
        pools: [WorkerPool],
        limits: Configuration.ServerLimits,
        inService: InService,
        wakeUp: NonBlockingPipe,
        thread: ThreadHandle,
        log: Log
    ) {
        self.endpoints = endpoints
        self.pools = pools
        self.limits = limits
        self.inService = inService
        self.wakeUp = wakeUp
        self.thread = thread
        self.log = log
    }

    func run() {
        var polled = PollSet()
        while !thread.isStopping {
            let now = MonotonicClock.now
            let isAccepting = now >= acceptingResumesAt
            polled.removeAll()
            polled.addReadable(wakeUp.readEnd)
            if isAccepting {
                for endpoint in endpoints { polled.addReadable(endpoint.listener.descriptor) }
            }
            for connection in pending { polled.addReadable(connection.connection.socket.descriptor) }
            // Deadlines grow in arrival order: the first pending one is the nearest.
            var nearest = min(pending.first?.deadline ?? now + 60, waiting.first?.deadline ?? now + 60)
            if !isAccepting { nearest = min(nearest, acceptingResumesAt) }
            polled.wait(timeout: nearest - now)
            if polled.isReady(0) { wakeUp.drain() }
            if thread.isStopping { break }

            // Requests first (their entries follow the listeners'), then new
            // connections, then deadlines: indexes stay valid until the removal.
            let firstPending = 1 + (isAccepting ? endpoints.count : 0)
            var finished = Set<Int>()
            for index in pending.indices where polled.isReady(firstPending + index) {
                if readRequest(at: index) { finished.insert(index) }
            }
            let after = MonotonicClock.now
            for index in pending.indices where !finished.contains(index) && pending[index].deadline <= after {
                pending[index].connection.close()  // no whole request line within its time: no answer
                finished.insert(index)
            }
            if !finished.isEmpty {
                pending = pending.indices.filter { !finished.contains($0) }.map { pending[$0] }
            }
            for index in endpoints.indices where isAccepting && polled.isReady(1 + index) {
                acceptAll(on: index, now: after)
            }
            startWaiting(now: after)
        }
        // Stopped: the connections the loop still owns are reset, the listeners closed.
        for entry in pending { entry.connection.reset() }
        for ready in waiting { ready.connection.reset() }
        pending.removeAll()
        waiting.removeAll()
        for endpoint in endpoints { endpoint.listener.descriptor.close() }
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
                if !pending.isEmpty { pending.removeFirst().connection.reset() }
                acceptingResumesAt = now + 0.1
                return
            }
            guard let accepted else { return }
            let connection = Connection(accepted)
            if pending.count + waiting.count >= limits.maxPendingConnections {
                // The oldest connection still waiting is reset to make room.
                if let first = pending.first, waiting.first.map({ first.deadline <= $0.deadline }) ?? true {
                    pending.removeFirst().connection.reset()
                } else {
                    waiting.removeFirst().connection.reset()
                }
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
                try pending[index].connection.socket.receiveNow(into: bytes)
            }
        } catch {
            pending[index].connection.close()  // reset by the caller
            return true
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
            pending[index].connection.close()  // the contract: no answer, the callee closes
            return true
        case .line(let line):
            let connection = pending[index].connection
            let ready = Ready(
                connection: connection,
                endpoint: pending[index].endpoint,
                line: line,
                address: connection.socket.remoteAddress() ?? 0,
                deadline: pending[index].deadline
            )
            if !start(ready) { waiting.append(ready) }
            return true
        }
    }

    /// Hands a request to its service's workers unless its caller address
    /// holds its share of them already; false then (it waits its turn).
    private func start(_ ready: Ready) -> Bool {
        let endpoint = endpoints[ready.endpoint]
        guard shares.take(ready.endpoint, ready.address, limit: endpoint.capacity.perAddress) else { return false }
        let (inService, shares, wakeUp, service) = (self.inService, self.shares, self.wakeUp, endpoint.service)
        let job: WorkerPool.Job = {
            // The worker owns the connection now; `serve` ends it where the answer ends.
            inService.serve(ready.connection) { service.serve(ready.line, on: ready.connection) }
            shares.give(ready.endpoint, ready.address)
            wakeUp.wake()  // a waiting request of that address may start now
        }
        let dropped: WorkerPool.Job = { ready.connection.reset() }  // the peer stopped first
        if !pools[ready.endpoint].submit(job, ifDropped: dropped) {
            shares.give(ready.endpoint, ready.address)
            // Never a clean empty close, which a plain caller reads as "missing or empty".
            ready.connection.reset()
            log.debug("\(service.name) workers busy: reset a connection")
        }
        return true
    }

    /// Starts the waiting requests whose address has a free slot now; closes
    /// those past their deadline.
    private func startWaiting(now: Double) {
        guard !waiting.isEmpty else { return }
        waiting = waiting.filter { ready in
            guard ready.deadline > now else {
                ready.connection.reset()  // could not be served in time: refused, not answered empty
                return false
            }
            return !start(ready)
        }
    }
}

/// How many slots (running or queued jobs) each caller address holds on each
/// endpoint. Taken by the event loop, given back by the worker that ran the job.
final class SlotShares: Sendable {
    private let counts = Locked([Int: [UInt32: Int]]())

    /// Takes a slot for `address` if it holds fewer than `limit`.
    func take(_ endpoint: Int, _ address: UInt32, limit: Int) -> Bool {
        counts.withLock { counts in
            let held = counts[endpoint, default: [:]][address, default: 0]
            guard held < limit else { return false }
            counts[endpoint, default: [:]][address] = held + 1
            return true
        }
    }

    func give(_ endpoint: Int, _ address: UInt32) {
        counts.withLock { counts in
            let held = counts[endpoint, default: [:]][address, default: 0]
            counts[endpoint, default: [:]][address] = held > 1 ? held - 1 : nil
        }
    }
}
