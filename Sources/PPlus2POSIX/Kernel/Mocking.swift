#if ENABLE_MOCKING
import Glibc
import Synchronization

/// A scripted kernel for tests: the seam under the kernel's door. It exists
/// only in builds with `ENABLE_MOCKING` (debug builds: `Package.swift`), so a
/// release binary carries neither the mock nor the door's check for it.
///
/// Installed on one thread with `run`, it answers the calls its script names,
/// in order, as the kernel would (a result, or -1 with an `errno`); calls it
/// has no answer for reach the real kernel. Every call that passes the door on
/// that thread is recorded, so a test can check which calls were made and how
/// often (an EINTR retried, a fallback taken). The model is swift-system's
/// `Internals/Mocking.swift`; other threads never see the script.
public final class SyscallMock: @unchecked Sendable {
    /// One scripted answer to one call.
    public enum Answer: Sendable, Equatable {
        /// The call returns this value.
        case result(Int)
        /// The call returns -1 with `errno` set to this.
        case failure(Errno)
        /// The real call runs, on at most this many bytes of its buffer: a
        /// short read or write, as sockets, pipes and full disks give.
        case shortened(Int)
    }

    /// One call through the door: its name, the descriptor it acted on (where
    /// the call has one), and the byte count it was asked for (0 for calls
    /// without a buffer). The model is swift-system's `Trace.Entry`.
    public struct Entry: Sendable, Equatable, CustomStringConvertible {
        public let name: String
        public let descriptor: CInt?
        public let count: Int

        public init(name: String, descriptor: CInt? = nil, count: Int = 0) {
            self.name = name
            self.descriptor = descriptor
            self.count = count
        }

        public var description: String { "\(name)(\(descriptor.map { "fd \($0), " } ?? "")\(count))" }
    }

    // Touched only by the thread the mock is installed on.
    private var script: [String: [Answer]]
    /// The calls made through the door while installed, in order, with their arguments.
    public private(set) var trace: [Entry] = []
    /// The names of those calls, in order.
    public var calls: [String] { trace.map(\.name) }

    public init(_ script: [String: [Answer]] = [:]) {
        self.script = script
    }

    /// How often `name` was called.
    public func count(of name: String) -> Int {
        calls.count { $0 == name }
    }

    /// Runs `body` with this mock installed on the calling thread.
    public func run<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = pthread_getspecific(mockKey)
        pthread_setspecific(mockKey, Unmanaged.passUnretained(self).toOpaque())
        installedMocks.add(1, ordering: .relaxed)
        defer {
            installedMocks.subtract(1, ordering: .relaxed)
            pthread_setspecific(mockKey, previous)
        }
        return try body()
    }

    /// The mock installed on this thread, if any (one relaxed load when none is).
    static var current: SyscallMock? {
        guard installedMocks.load(ordering: .relaxed) > 0, let raw = pthread_getspecific(mockKey) else { return nil }
        return Unmanaged<SyscallMock>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Records the call and takes its next scripted answer, if there is one.
    func answer(_ call: Entry) -> Answer? {
        trace.append(call)
        guard var answers = script[call.name], !answers.isEmpty else { return nil }
        let answer = answers.removeFirst()
        script[call.name] = answers
        return answer
    }
}

/// Mocks installed on any thread: zero in production, so the door's check costs one load.
private let installedMocks = Atomic<Int>(0)

private let mockKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
#endif
