/// The command line, as the contract fixes it, parsed without side effects.
///
/// `parse` only reads strings; resolving host names, creating the folder and
/// binding ports happen later, in the node. Errors carry one line that names
/// the argument; the executable prints it with the usage and exits with 2.
public struct Options: Sendable, Equatable {
    public var port: UInt16 = 5000
    public var bootstraps: [HostPort] = []
    public var directory = "./shared"
    public var host: IPv4Address?
    public var bind = IPv4Address.any
    public var gossipInterval = 10.0
    public var timeout = 5.0
    public var console = true
    public var discover = false
    /// Seconds other peers keep our discovery records (RFC 6762 suggests 120).
    public var discoveryTTL: UInt32 = 120
    /// The largest file a download accepts, in bytes (64 GiB).
    public var maxDownloadSize: Int64 = 64 << 30
    /// Serving activity on standard error.
    public var verbose = false

    public init() {}

    public static let version = "0.1.0"

    /// Parses the arguments after the program name, by `OptionTable`.
    /// `--name=value` is accepted as well as `--name value`.
    public static func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        var options = Options()
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = OptionTable.option(named: name) else {
                if argument.hasPrefix("-") { throw UsageError("unknown option '\(name)'") }
                throw UsageError("unexpected argument '\(argument)'")
            }
            switch option.kind {
            case .flag(let apply):
                if inlineValue != nil { throw UsageError("\(name) takes no value") }
                if let invocation = apply(&options) { return invocation }
            case .value(let placeholder, let apply):
                // The next option is never taken for a value (`--dir --no-console`): a
                // value that starts with `--` is given as `--dir=--odd`.
                let next = remaining.first.flatMap { $0.hasPrefix("--") ? nil : $0 }
                guard let value = inlineValue ?? next else {
                    throw UsageError("missing value for '\(name) \(placeholder)'")
                }
                if inlineValue == nil { remaining.removeFirst() }
                try apply(&options, value)
            }
        }
        return .run(options)
    }

    /// What the command line asks for.
    public enum Invocation: Sendable, Equatable {
        case run(Options)
        case help
        case version
    }

    /// `1048576`, `512K`, `100M`, `64G`, `1T` (powers of 1024; `KiB`... also accepted).
    static func byteCount(_ text: String) -> Int64? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 19, let number = Int64(digits) else { return nil }
        let shifts: [String: Int64] = [
            "": 0, "K": 10, "KiB": 10, "M": 20, "MiB": 20, "G": 30, "GiB": 30, "T": 40, "TiB": 40,
        ]
        guard let shift = shifts[String(text.dropFirst(digits.count))] else { return nil }
        let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : value
    }

    /// A duration from 0.001 s to one day.
    static func seconds(_ text: String, for name: String) throws(UsageError) -> Double {
        guard let value = Double(text), value.isFinite, value >= 0.001, value <= 86_400 else {
            throw UsageError("\(name) '\(text)' is not a number of seconds from 0.001 to 86400")
        }
        return value
    }
}

/// A `HOST:PORT` from the command line: HOST is an IPv4 address or a name.
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon]
        let portText = text[text.index(after: colon)...]
        guard !host.isEmpty, host.utf8.count <= 253,
            host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "/") }),
            let port = UInt16(portText), (1...PeerIdentity.maxBasePort).contains(port)
        else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// A bad command line: one line that names the argument.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
