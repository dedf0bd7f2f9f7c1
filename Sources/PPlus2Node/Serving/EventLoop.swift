import PPlus2Core
import PPlus2POSIX

/// The loop's own state: touched by the loop thread only.
final class EventLoop: @unchecked Sendable {
    private struct Pending {
        let connection: TCPSocket
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
            for connection in pending { polled.addReadable(connection.connection.descriptor) }
            // Deadlines grow in arrival order: the first pending one is the nearest.
            var nearest = pending.first?.deadline ?? now + 60
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
            let inService = self.inService
            let job: WorkerPool.Job = { inService.serve(connection) { service.serve(line, on: connection) } }
            if !pools[endpoint].submit(job) {
                log.debug("\(service.name) workers busy: closed a connection")
            }
            return true
        }
    }
}
