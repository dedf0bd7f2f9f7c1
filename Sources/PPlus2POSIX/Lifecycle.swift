import Synchronization

/// The one lifecycle of everything in the peer that runs threads of its own
/// (the server's event loop, gossip, the folder index, hashing, LAN discovery):
/// `start` once, `stop` any number of times from any thread (the first call
/// asks the threads to end and wakes them; the others do nothing), then `join`
/// any number of times (the first call waits for the threads; the others
/// return at once). A thread is never detached, never joined twice.
public protocol ThreadOwner: Sendable {
    /// Asks the threads to end and wakes them; idempotent, never blocks.
    func stop()
    /// Waits until the threads have ended; idempotent. Call after `stop`.
    func join()
}

/// The state every `ThreadOwner` keeps for one thread: whether it was asked to
/// stop, and the thread until it is joined.
public final class ThreadHandle: Sendable {
    private let stopping = OnceFlag()
    private let thread = Locked<OSThread?>(nil)

    public init() {}

    /// True once `requestStop` was called: the thread's loop ends when it sees it.
    public var isStopping: Bool { stopping.isSet }

    /// Starts the thread. Call once.
    public func start(name: String, _ body: @escaping @Sendable () -> Void) throws(IOFailure) {
        let started = try OSThread.start(name: name, body)
        thread.withLock { $0 = started }
    }

    /// Marks the thread as stopping; true for the first caller, who then wakes it.
    @discardableResult
    public func requestStop() -> Bool {
        stopping.set()
    }

    /// Waits for the thread to end. The thread is taken out first, so a second
    /// call (from any thread) finds none and returns at once.
    public func join() {
        thread.withLock { $0.take() }?.join()
    }
}

/// A flag that goes from false to true once, readable from any thread.
public final class OnceFlag: Sendable {
    private let value = Atomic(false)

    public init() {}

    public var isSet: Bool { value.load(ordering: .acquiring) }

    /// Sets the flag; true for the one caller that set it first.
    @discardableResult
    public func set() -> Bool {
        !value.exchange(true, ordering: .acquiringAndReleasing)
    }
}
