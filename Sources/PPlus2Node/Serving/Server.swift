import PPlus2Core
import PPlus2POSIX

/// The three listeners and the one event loop that serves them.
///
/// One thread (`EventLoop`) accepts every connection, reads every request
/// line, asks the port's service for the answer and sends it, all driven by
/// readiness (`EventPoll`): a transfer costs a descriptor and a socket
/// buffer, not a thread, so a thousand slow readers cost only their own rate.
/// Stopping ends every answer in progress with a TCP reset, so no caller
/// mistakes a cut transfer for a whole one.
final class Server: ThreadOwner {
    private let thread = ThreadHandle()
    private let wakeUp: NonBlockingPipe

    /// One listener and what serves it.
    struct Endpoint: Sendable {
        let listener: TCPSocket
        let service: any Service
        let capacity: Configuration.ServiceCapacity
    }

    /// Starts serving `endpoints`. The listeners belong to the loop from now on
    /// and are closed when it ends.
    init(
        endpoints: [Endpoint],
        limits: Configuration.ServerLimits,
        rules: Transfer.Rules,
        log: Log
    ) throws(IOFailure) {
        wakeUp = try NonBlockingPipe()
        let loop = try EventLoop(
            endpoints: endpoints,
            limits: limits,
            rules: rules,
            wakeUp: wakeUp,
            thread: thread,
            log: log
        )
        try thread.start(name: "server") { loop.run() }
    }

    /// Closes the listeners and resets every connection.
    func stop() {
        guard thread.requestStop() else { return }
        wakeUp.wake()
    }

    func join() {
        thread.join()
    }
}
