import PPlus2POSIX

/// Stops a download from another thread (the console's Ctrl-C or `/cancel`):
/// the connection in use is reset, so a transfer waiting for bytes wakes at
/// once and fails like any broken-off download (its partial is kept or
/// removed by the same rules).
public final class DownloadCancellation: Sendable {
    /// Whether it was cancelled, and the connections in use (a multi-source
    /// download has one a source), by descriptor number.
    private let state = Locked<(cancelled: Bool, connections: [CInt: TCPSocket])>((false, [:]))

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    public func cancel() {
        // Reset under the lock: a connection detached (then closed) by its
        // download cannot be reset after its descriptor number was reused.
        state.withLock { state in
            state.cancelled = true
            for connection in state.connections.values { connection.reset() }
        }
    }

    /// A connection of the download from now on; reset at once if cancelled already.
    func attach(_ connection: TCPSocket) {
        let cancelled = state.withLock { state in
            state.connections[connection.descriptor.rawValue] = connection
            return state.cancelled
        }
        if cancelled { connection.reset() }
    }

    /// The connection is done with (its descriptor may be closed).
    func detach(_ connection: TCPSocket) {
        state.withLock { _ = $0.connections.removeValue(forKey: connection.descriptor.rawValue) }
    }
}
