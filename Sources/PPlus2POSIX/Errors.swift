import Glibc

/// A C `errno` value, described by `strerror`.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: CInt

    public init(_ code: CInt) {
        self.code = code
    }

    /// The calling thread's `errno`.
    public static var current: Errno { Errno(errno) }

    public var description: String { String(cString: strerror(code)) }

    public static let noSuchFile = Errno(ENOENT)
    public static let addressInUse = Errno(EADDRINUSE)
}

/// Why an I/O operation failed: a system call's error or a timeout.
public enum IOFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// `call` failed with `errno`, as in `connect: Connection refused`.
    case system(call: String, errno: Errno)
    /// Nothing happened for too long while doing `what` (`connecting`, `reading`...).
    case timedOut(String)

    /// The current `errno`, for `call`.
    static func lastError(_ call: String) -> IOFailure {
        .system(call: call, errno: .current)
    }

    public var errno: Errno? {
        if case .system(_, let errno) = self { return errno }
        return nil
    }

    /// The cause alone, without the call: `Connection refused`, `timed out reading`.
    public var reason: String {
        switch self {
        case .system(_, let errno): errno.description
        case .timedOut(let what): "timed out \(what)"
        }
    }

    public var description: String {
        switch self {
        case .system(let call, let errno): "\(call): \(errno)"
        case .timedOut(let what): "timed out \(what)"
        }
    }
}
