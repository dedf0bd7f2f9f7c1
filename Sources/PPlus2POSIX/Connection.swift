import Synchronization

/// One accepted connection on a listener, from `accept` to the line that ends
/// it: its owner (the server's event loop) ends it with exactly one `close()`
/// (the answer is complete: a clean end of stream) or
/// `reset()` (the answer is cut, or was refused: the caller reads
/// `ECONNRESET`, never a clean empty close).
///
/// A P+2 caller knows an answer ended only when the callee closes, so the
/// close is a line of code where the answer ends, never left to the moment
/// the last reference goes. A connection dropped without either is a bug:
/// debug builds (and the tests) stop on it; release builds still close it.
public final class Connection: Sendable {
    /// The socket, for the answer's reads and writes until the connection ends.
    public let socket: TCPSocket
    private let isEnded = Atomic(false)

    public init(_ socket: TCPSocket) {
        self.socket = socket
    }

    deinit {
        if !isEnded.load(ordering: .relaxed) {
            assertionFailure("a connection was dropped without close() or reset()")
            socket.descriptor.close()
        }
    }

    /// Ends the answer cleanly: the caller reads end of stream, now.
    public func close() {
        end()
    }

    /// Ends the connection with a TCP reset: a refused or cut answer.
    public func reset() {
        socket.abortOnClose()
        end()
    }

    private func end() {
        precondition(!isEnded.exchange(true, ordering: .acquiringAndReleasing), "a connection was ended twice")
        socket.descriptor.close()
    }
}
