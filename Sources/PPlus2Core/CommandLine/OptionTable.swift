/// Every command-line option, once: its name, its value, what it means and its
/// default. The parser reads it, `--help` and the usage are made from it, and a
/// test checks the README's table and the man page against it.
public struct OptionSpec: Sendable {
    public enum Kind: Sendable {
        /// An option without a value; it may end parsing with an invocation.
        case flag(@Sendable (inout Options) -> Options.Invocation?)
        /// An option with a value, shown as `placeholder`.
        case value(placeholder: String, @Sendable (inout Options, String) throws(UsageError) -> Void)
    }

    /// `--port`.
    public let name: String
    /// Other spellings (`-h`).
    public let aliases: [String]
    /// One or two sentences for `--help`.
    public let meaning: String
    /// The default as the README's table says it (nil: none to say).
    public let defaultValue: String?
    public let kind: Kind

    /// `P` for `--port P`; nil for a flag.
    public var placeholder: String? {
        if case .value(let placeholder, _) = kind { return placeholder }
        return nil
    }

    /// `--port P`, as the usage and the tables write it.
    public var synopsis: String { placeholder.map { "\(name) \($0)" } ?? name }
}

public enum OptionTable {
    public static let options: [OptionSpec] = [
        value(
            "--port",
            "P",
            "base port: serves P, P+1, P+2; 0 picks a free triple and prints it",
            default: "5000"
        ) { options, text throws(UsageError) in
            guard let port = UInt16(text), port <= PeerIdentity.maxBasePort else {
                throw UsageError("--port '\(text)' is not a port from 0 to \(PeerIdentity.maxBasePort)")
            }
            options.port = port
        },
        value(
            "--bootstrap",
            "HOST:PORT",
            "a peer to start from; repeatable; HOST may be a name, resolved once at start",
            default: "none"
        ) { options, text throws(UsageError) in
            guard let address = HostPort(text) else {
                throw UsageError("--bootstrap '\(text)' is not HOST:PORT with a port from 1 to 65533")
            }
            options.bootstraps.append(address)
        },
        value(
            "--dir",
            "PATH",
            "the shared folder: files offered, downloads saved; created if missing",
            default: "./shared"
        ) { options, text throws(UsageError) in
            guard !text.isEmpty, !text.utf8.contains(0) else { throw UsageError("--dir needs a folder path") }
            options.directory = text
        },
        value(
            "--host",
            "IP",
            "the IPv4 address this peer advertises",
            default: "the --bind address if not 0.0.0.0, else the local address of the route to the first "
                + "bootstrap, else (with --discover) the first interface that is up and can multicast, else 127.0.0.1"
        ) { options, text throws(UsageError) in
            guard let address = IPv4Address(text), address.isUnicastDestination else {
                throw UsageError("--host '\(text)' is not a unicast IPv4 address like 192.168.1.20")
            }
            options.host = address
        },
        value("--bind", "IP", "the address the three listeners bind", default: "0.0.0.0") {
            options,
            text throws(UsageError) in
            guard let address = IPv4Address(text), !address.isMulticast, !address.isBroadcast else {
                throw UsageError("--bind '\(text)' is not an IPv4 address like 0.0.0.0 or 127.0.0.1")
            }
            options.bind = address
        },
        value(
            "--gossip-interval",
            "S",
            "seconds between two peer-list contacts (fractions allowed)",
            default: "10"
        ) { options, text throws(UsageError) in
            options.gossipInterval = try Options.seconds(text, for: "--gossip-interval")
        },
        value("--timeout", "S", "connect and idle timeout of outgoing requests", default: "5") {
            options,
            text throws(UsageError) in
            options.timeout = try Options.seconds(text, for: "--timeout")
        },
        flag("--no-console", "serve only; no prompt", default: "off") { $0.console = false },
        flag(
            "--discover",
            "find and announce peers on the LAN by DNS-SD over multicast DNS, service _pplus2._tcp.local.; "
                + "nothing is multicast without it",
            default: "off"
        ) { $0.discover = true },
        value(
            "--discovery-ttl",
            "S",
            "seconds other peers keep our announcement if we vanish without a goodbye (1-4500)",
            default: "120"
        ) { options, text throws(UsageError) in
            guard let seconds = UInt32(text), (1...Discovery.maxTTL).contains(seconds) else {
                throw UsageError("--discovery-ttl '\(text)' is not a whole number of seconds from 1 to 4500")
            }
            options.discoveryTTL = seconds
        },
        value(
            "--max-download-size",
            "N",
            "abandon a download past N bytes (suffixes K, M, G, T: powers of 1024)",
            default: "64G"
        ) { options, text throws(UsageError) in
            guard let size = Options.byteCount(text), size > 0 else {
                throw UsageError("--max-download-size '\(text)' is not a size like 500M or 64G")
            }
            options.maxDownloadSize = size
        },
        flag("--verbose", "log serving activity (who asked what) on standard error", default: "off") {
            $0.verbose = true
        },
        flag("--help", aliases: ["-h"], "show this help and exit") { _ in .help },
        flag("--version", aliases: ["-V"], "show the version and exit") { _ in .version },
    ]

    /// The option called `name` (or one of its aliases).
    public static func option(named name: String) -> OptionSpec? {
        options.first { $0.name == name || $0.aliases.contains(name) }
    }

    private static func value(
        _ name: String,
        _ placeholder: String,
        _ meaning: String,
        default defaultValue: String,
        _ apply: @escaping @Sendable (inout Options, String) throws(UsageError) -> Void
    ) -> OptionSpec {
        OptionSpec(
            name: name,
            aliases: [],
            meaning: meaning,
            defaultValue: defaultValue,
            kind: .value(placeholder: placeholder, apply)
        )
    }

    private static func flag(
        _ name: String,
        aliases: [String] = [],
        _ meaning: String,
        default defaultValue: String? = nil,
        _ apply: @escaping @Sendable (inout Options) -> Options.Invocation?
    ) -> OptionSpec {
        OptionSpec(name: name, aliases: aliases, meaning: meaning, defaultValue: defaultValue, kind: .flag(apply))
    }

    private static func flag(
        _ name: String,
        _ meaning: String,
        default defaultValue: String,
        _ apply: @escaping @Sendable (inout Options) -> Void
    ) -> OptionSpec {
        flag(name, meaning, default: defaultValue) { options -> Options.Invocation? in
            apply(&options)
            return nil
        }
    }
}
