import PPlus2Core
import PPlus2POSIX

/// What answers one request line on one port.
protocol Service: Sendable {
    /// A short name for logs and thread names: `peers`, `query`, `download`.
    var name: String { get }
    /// Answers `request` on `connection`, then returns; the worker that called
    /// it closes the connection at once (a clean end of the answer, or a reset
    /// if the service called `cutOff()`). Runs on one of the service's workers.
    func serve(_ request: String, on connection: Connection)
}

/// The three listeners and their one event loop.
///
/// One thread polls every listener and every connection that has not yet sent
/// its request line, reading without blocking and under the contract's limits
/// (4096 bytes, 10 s from connecting). A connection with a complete line goes
/// to its service's worker pool; when that pool's queue is full it is closed at
/// once. So no silent or slow-drip client can hold a worker, and workers only
/// ever do real work.
///
/// Stopping ends every answer in progress with a TCP reset (`InService`), so
/// no caller mistakes a cut transfer for a whole one, and the workers can be joined.
final class Server: ThreadOwner {
    private let thread = ThreadHandle()
    private let wakeUp: NonBlockingPipe
    private let pools: [WorkerPool]
    private let inService = InService()

    /// One listener and what serves it.
    struct Endpoint: Sendable {
        let listener: TCPSocket
        let service: any Service
        let capacity: Configuration.ServiceCapacity
    }

    /// Starts serving `endpoints`. The listeners belong to the loop from now on
    /// and are closed when it ends.
    init(endpoints: [Endpoint], limits: Configuration.ServerLimits, log: Log) throws(IOFailure) {
        wakeUp = try NonBlockingPipe()
        var pools: [WorkerPool] = []
        for endpoint in endpoints {
            pools.append(
                try WorkerPool(
                    name: endpoint.service.name,
                    threads: endpoint.capacity.workers,
                    queueLimit: endpoint.capacity.queueLimit
                )
            )
        }
        self.pools = pools
        let state = EventLoop(
            endpoints: endpoints,
            pools: pools,
            limits: limits,
            inService: inService,
            wakeUp: wakeUp,
            thread: thread,
            log: log
        )
        try thread.start(name: "server") { state.run() }
    }

    /// Closes the listeners and every waiting connection, resets every answer in
    /// progress, and stops the workers.
    func stop() {
        guard thread.requestStop() else { return }
        wakeUp.wake()
        for pool in pools { pool.stop() }
        inService.resetAll()
    }

    /// Waits for the loop and every worker to end.
    func join() {
        thread.join()
        for pool in pools { pool.join() }
    }
}

/// The connections workers are answering: on stop each is reset at once, which
/// also wakes a worker blocked waiting for a slow reader.
final class InService: Sendable {
    private let state = Locked((open: [ObjectIdentifier: Connection](), isClosed: false))

    /// Runs `body` with `connection` registered, then ends the connection: the
    /// one place a served answer ends. After a stop it only resets it.
    func serve(_ connection: Connection, _ body: () -> Void) {
        let key = ObjectIdentifier(connection)
        let admitted = state.withLock { state in
            if !state.isClosed { state.open[key] = connection }
            return !state.isClosed
        }
        guard admitted else { return connection.reset() }
        body()
        // Unregistered before the close, under the lock `resetAll` holds: an
        // interrupt never reaches a descriptor number that was closed and reused.
        state.withLock { _ = $0.open.removeValue(forKey: key) }
        connection.close()
    }

    /// Resets every answer in progress; their workers wake and close them.
    func resetAll() {
        state.withLock { state in
            state.isClosed = true
            for connection in state.open.values { connection.interrupt() }
            state.open.removeAll()
        }
    }
}
