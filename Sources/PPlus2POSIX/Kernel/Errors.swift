import Glibc

/// A C `errno` value, matchable by name (`case .wouldBlock`), described by `strerror`.
///
/// Only the kernel's door (`Sys`) makes these from `errno`; every other file
/// matches the named cases.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: CInt

    public init(_ code: CInt) {
        self.code = code
    }

    /// `strerror`'s words, lower-cased at the start (`connection refused`), so
    /// that reasons read alike whoever made them.
    public var description: String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    public static let interrupted = Errno(EINTR)
    public static let wouldBlock = Errno(EAGAIN)
    public static let inProgress = Errno(EINPROGRESS)
    public static let noSuchFile = Errno(ENOENT)
    public static let fileExists = Errno(EEXIST)
    public static let invalidArgument = Errno(EINVAL)
    public static let notImplemented = Errno(ENOSYS)
    public static let notPermitted = Errno(EPERM)
    public static let noSpace = Errno(ENOSPC)
    public static let badDescriptor = Errno(EBADF)
    public static let brokenPipe = Errno(EPIPE)
    public static let tooManyOpenFiles = Errno(EMFILE)
    public static let addressInUse = Errno(EADDRINUSE)
    public static let connectionRefused = Errno(ECONNREFUSED)
    public static let connectionReset = Errno(ECONNRESET)
    public static let connectionAborted = Errno(ECONNABORTED)
    public static let protocolError = Errno(EPROTO)
    public static let timedOut = Errno(ETIMEDOUT)
}

/// What a non-blocking call did: its work, or nothing because it would have had to wait.
///
/// The kernel's door answers `EAGAIN` with `.wouldBlock`, so no caller compares `errno` by hand.
public enum IOResult<Value: Sendable>: Sendable {
    case processed(Value)
    case wouldBlock
}

extension IOResult: Equatable where Value: Equatable {}

/// Why an I/O operation failed: a system call's error, a timeout, or a file that
/// is not what the operation needs.
public enum IOFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// `call` failed with `errno`, as in `connect: connection refused`.
    case system(call: String, errno: Errno)
    /// Nothing happened for too long while doing `stage`.
    case timedOut(Stage)
    /// The name exists but is not a regular file (a folder, a FIFO, a device).
    case notARegularFile
    /// A file was larger than the operation accepts.
    case fileTooLarge(limit: Int)
    /// A write moved no byte although the file accepted the call (a full disk
    /// that does not say ENOSPC).
    case wroteNothing
    /// The folder was removed or replaced (by a file, say) since it was opened.
    case folderGone

    /// What was being done when time ran out.
    public enum Stage: String, Sendable {
        case connecting
        case reading
        case writing
        case readingTheAnswer = "reading the answer"
    }

    public var errno: Errno? {
        if case .system(_, let errno) = self { return errno }
        return nil
    }

    /// The cause alone, without the call: `connection refused`, `timed out reading`.
    public var reason: String {
        switch self {
        case .system(_, let errno): errno.description
        case .timedOut(let stage): "timed out \(stage.rawValue)"
        case .notARegularFile: "not a regular file"
        case .fileTooLarge(let limit): "larger than \(limit) bytes"
        case .wroteNothing: "the file took no byte (is the disk full?)"
        case .folderGone: "the folder was removed or replaced; it is picked up again once a folder is back at its path"
        }
    }

    public var description: String {
        if case .system(let call, let errno) = self { return "\(call): \(errno)" }
        return reason
    }
}
