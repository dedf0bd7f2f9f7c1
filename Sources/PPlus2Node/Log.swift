import PPlus2POSIX

/// Messages about the peer's own work, on standard error, one line each.
/// Each request served is `debug` (shown with verbose on); what was served,
/// summed up at most every 10 s, is `notice`; problems are `warning`.
public struct Log: Sendable {
    public var isVerbose: Bool
    /// Where lines go; standard error unless a test captures them.
    public var sink: @Sendable (String) -> Void

    public init(isVerbose: Bool = false, sink: @escaping @Sendable (String) -> Void = Log.standardError) {
        self.isVerbose = isVerbose
        self.sink = sink
    }

    public static let standardError: @Sendable (String) -> Void = { StandardStreams.write("pplus2: \($0)\n", to: 2) }

    public static let silent = Log(sink: { _ in })

    public func debug(_ message: @autoclosure () -> String) {
        if isVerbose { sink(message()) }
    }

    public func warning(_ message: String) {
        sink(message)
    }

    /// News the person at the console wants without asking (what was served).
    public func notice(_ message: String) {
        sink(message)
    }
}
