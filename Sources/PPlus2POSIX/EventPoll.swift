/// Readiness of many descriptors at once (`epoll(7)`): the server's event
/// loop registers each connection under a token of its choice, says whether
/// it waits to read, to write or both, and asks which are ready. The cost of a
/// wait does not grow with the number of idle connections, as `poll`'s does.
public final class EventPoll {
    /// What a descriptor waits for.
    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Interest(rawValue: 1)
        public static let writable = Interest(rawValue: 2)
    }

    /// One ready descriptor: its token and what it is ready for.
    public struct Ready: Sendable {
        public let token: UInt64
        public let isReadable: Bool
        public let isWritable: Bool
        /// An error or a hang-up: the next call on it says which.
        public let isBroken: Bool
    }

    private let descriptor: FileDescriptor
    private var tokens = [UInt64](repeating: 0, count: 256)
    private var events = [UInt32](repeating: 0, count: 256)

    public init() throws(IOFailure) {
        descriptor = FileDescriptor(adopting: try Sys.epollCreate())
    }

    public func add(_ watched: FileDescriptor, token: UInt64, for interest: Interest) throws(IOFailure) {
        try Sys.epollControl(descriptor.rawValue, 0, watched.rawValue, events: interest.rawValue, token: token)
    }

    public func change(_ watched: FileDescriptor, token: UInt64, to interest: Interest) {
        try? Sys.epollControl(descriptor.rawValue, 1, watched.rawValue, events: interest.rawValue, token: token)
    }

    /// Stops watching (before the descriptor is closed).
    public func remove(_ watched: FileDescriptor) {
        try? Sys.epollControl(descriptor.rawValue, 2, watched.rawValue, events: 0, token: 0)
    }

    /// Waits up to `timeout` seconds; the descriptors that are ready (at most 256).
    public func wait(timeout: Double) -> [Ready] {
        let milliseconds = MonotonicClock.milliseconds(max(0, timeout))
        let count = tokens.withUnsafeMutableBufferPointer { tokens in
            events.withUnsafeMutableBufferPointer { events in
                Sys.epollWait(descriptor.rawValue, tokens.baseAddress!, events.baseAddress!, 256, milliseconds)
            }
        }
        return (0..<count).map { index in
            let bits = events[index]
            return Ready(
                token: tokens[index],
                isReadable: bits & 1 != 0,
                isWritable: bits & 2 != 0,
                isBroken: bits & 4 != 0
            )
        }
    }

    /// The process's limit on open descriptors.
    public static var descriptorLimit: Int { Sys.descriptorLimit() }
}
