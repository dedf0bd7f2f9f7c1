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

    public static let usage = """
        usage: pplus2 [--port P] [--bootstrap HOST:PORT]... [--dir PATH] [--host IP]
                      [--bind IP] [--gossip-interval SECONDS] [--timeout SECONDS]
                      [--no-console] [--discover] [--discovery-ttl SECONDS]
                      [--max-download-size BYTES] [--verbose] [--help] [--version]
        """

    public static let help = """
        pplus2 \(version): a peer of the P+2 file-search protocol.
        Shares one folder; serves peer lists on port P, name search on P+1 and
        downloads on P+2; learns peers by gossip; a console searches every known
        peer and downloads the chosen file into the shared folder.

        \(usage)

        OPTIONS:
          --port P                 base port: serves P, P+1, P+2; 0 picks a free
                                   triple and prints it (default: 5000)
          --bootstrap HOST:PORT    a peer to start from; repeatable; HOST may be a
                                   name, resolved once at start (default: none)
          --dir PATH               the shared folder, created if missing
                                   (default: ./shared)
          --host IP                the IPv4 address this peer advertises (default:
                                   the --bind address if not 0.0.0.0, else the
                                   local address of the route to the first
                                   bootstrap, else with --discover the first
                                   interface that can multicast, else 127.0.0.1)
          --bind IP                the address the listeners bind (default: 0.0.0.0)
          --gossip-interval S      seconds between two peer-list contacts,
                                   fractions allowed (default: 10)
          --timeout S              connect and idle timeout of outgoing requests
                                   (default: 5)
          --no-console             serve only; no prompt
          --discover               find and announce peers on the LAN by DNS-SD
                                   over multicast DNS, service _pplus2._tcp.local.
                                   (default: off; nothing is multicast without it)
          --discovery-ttl S        seconds other peers keep our announcement if
                                   we vanish without a goodbye, 1-4500
                                   (default: 120)
          --max-download-size N    abandon a download past N bytes; suffixes K, M,
                                   G, T are powers of 1024 (default: 64G)
          --verbose                log serving activity on standard error
          --help                   show this help
          --version                show the version

        CONSOLE:
          a line not starting with /  search every known peer (empty: list all)
          a number after a listing    download that match into the shared folder
          an empty line after one     skip
          /browse HOST:PORT  /peers  /files  /help  /quit

        ENVIRONMENT:
          NO_COLOR                 no colour on a terminal

        Exit status: 0 on /quit, SIGINT or SIGTERM; 1 if a port is busy or the
        folder is unusable; 2 on a bad argument.
        """

    /// What the command line asks for.
    public enum Invocation: Sendable, Equatable {
        case run(Options)
        case help
        case version
    }

    /// Parses the arguments after the program name. `--name=value` is accepted
    /// as well as `--name value`.
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
            func value() throws(UsageError) -> String {
                if let inlineValue { return inlineValue }
                guard let next = remaining.popFirst() else { throw UsageError("\(name) needs a value") }
                return next
            }
            func flag() throws(UsageError) {
                if inlineValue != nil { throw UsageError("\(name) takes no value") }
            }
            switch name {
            case "--help", "-h":
                try flag()
                return .help
            case "--version":
                try flag()
                return .version
            case "--port":
                let text = try value()
                guard let port = UInt16(text), port <= PeerIdentity.maxBasePort else {
                    throw UsageError("--port '\(text)' is not a port from 0 to \(PeerIdentity.maxBasePort)")
                }
                options.port = port
            case "--bootstrap":
                let text = try value()
                guard let address = HostPort(text) else {
                    throw UsageError("--bootstrap '\(text)' is not HOST:PORT with a port from 1 to 65533")
                }
                options.bootstraps.append(address)
            case "--dir":
                let text = try value()
                guard !text.isEmpty, !text.utf8.contains(0) else { throw UsageError("--dir needs a folder path") }
                options.directory = text
            case "--host":
                let text = try value()
                guard let address = IPv4Address(text), address.isUnicastDestination else {
                    throw UsageError("--host '\(text)' is not a unicast IPv4 address like 192.168.1.20")
                }
                options.host = address
            case "--bind":
                let text = try value()
                guard let address = IPv4Address(text), !address.isMulticast, !address.isBroadcast else {
                    throw UsageError("--bind '\(text)' is not an IPv4 address like 0.0.0.0 or 127.0.0.1")
                }
                options.bind = address
            case "--gossip-interval":
                options.gossipInterval = try seconds(try value(), for: name)
            case "--timeout":
                options.timeout = try seconds(try value(), for: name)
            case "--no-console":
                try flag()
                options.console = false
            case "--discover":
                try flag()
                options.discover = true
            case "--discovery-ttl":
                let text = try value()
                guard let seconds = UInt32(text), (1...Discovery.maxTTL).contains(seconds) else {
                    throw UsageError("--discovery-ttl '\(text)' is not a whole number of seconds from 1 to 4500")
                }
                options.discoveryTTL = seconds
            case "--max-download-size":
                let text = try value()
                guard let size = byteCount(text), size > 0 else {
                    throw UsageError("--max-download-size '\(text)' is not a size like 500M or 64G")
                }
                options.maxDownloadSize = size
            case "--verbose":
                try flag()
                options.verbose = true
            default:
                if argument.hasPrefix("-") { throw UsageError("unknown option '\(name)'") }
                throw UsageError("unexpected argument '\(argument)'")
            }
        }
        return .run(options)
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
    private static func seconds(_ text: String, for name: String) throws(UsageError) -> Double {
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
