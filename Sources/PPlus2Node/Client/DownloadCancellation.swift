import PPlus2POSIX

/// Stops a download from another thread (the console's Ctrl-C or `/cancel`):
/// the connection in use is reset, so a transfer waiting for bytes wakes at
/// once and fails like any broken-off download (its partial is kept or
/// removed by the same rules).
public final class DownloadCancellation: Sendable {
    private let state = Locked<(cancelled: Bool, connection: TCPSocket?)>((false, nil))

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    public func cancel() {
        let connection = state.withLock { state in
            state.cancelled = true
            return state.connection
        }
        connection?.reset()
    }

    /// The download's connection from now on; reset at once if cancelled already.
    func attach(_ connection: TCPSocket) {
        let cancelled = state.withLock { state in
            state.connection = connection
            return state.cancelled
        }
        if cancelled { connection.reset() }
    }

    /// The connection is done with (its descriptor may be closed).
    func detach() {
        state.withLock { $0.connection = nil }
    }
}
