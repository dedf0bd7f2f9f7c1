import PPlus2Core
import PPlus2POSIX

/// Everything a peer needs to start, with names already resolved.
public struct Configuration: Sendable {
    /// Base port; 0 picks a free triple.
    public var port: UInt16 = 5000
    public var bind = IPv4Address.any
    /// The advertised address; nil applies the contract's rule.
    public var host: IPv4Address?
    public var bootstraps: [PeerIdentity] = []
    public var directory = "./shared"
    public var gossipInterval = 10.0
    /// Connect and idle timeout of outgoing requests.
    public var timeout = 5.0
    /// Seconds a caller may stop reading an answer before it is dropped.
    public var sendIdleTimeout = 30.0
    public var peerCapacity = 1000
    /// The most names one query answer carries.
    public var maxAnswerNames = 10_000
    /// The largest download accepted (64 GiB).
    public var maxDownloadSize: Int64 = 64 << 30
    /// How many broken-off downloads are kept to be resumed (8), and how long
    /// (7 days). Their bytes in all follow `maxDownloadSize`: see `keptPartials`.
    public var keptPartialCount = 8
    public var keptPartialMaxAge = 7 * 86_400.0
    /// The kept-partial bounds, read off the fields above each time they are
    /// needed, so `--max-download-size` bounds kept partials whatever the order
    /// of assignments (a `didSet` does not run in the type's own initializer).
    public var keptPartials: SharedFolder.KeptPartialLimits {
        var limits = SharedFolder.KeptPartialLimits()
        limits.count = keptPartialCount
        limits.bytes = maxDownloadSize
        limits.maxAgeSeconds = keptPartialMaxAge
        return limits
    }
    /// What the server takes on at once.
    public var server = ServerLimits()
    /// Answers of each service in progress at once, and of one caller address:
    /// a list or query answer holds its bytes until sent (memory), a transfer
    /// a file's descriptor. Past them a request waits its turn within its 10 s.
    public var peerListCapacity = ServiceCapacity(inFlight: 64, perAddress: 2)
    public var queryCapacity = ServiceCapacity(inFlight: 32, perAddress: 4)
    public var downloadCapacity = ServiceCapacity(inFlight: 4096, perAddress: 64)
    /// A caller that takes an answer or a file slower than this, on average,
    /// after its first 5 s, is dropped: slower than any real LAN (1 Mbit/s),
    /// and an attacker must keep up that rate on every slot it holds.
    public var minimumSendRate = MinimumRate(bytesPerSecond: 128 * 1024, graceSeconds: 5)
    /// A download's connection that moves less than 1 KiB in 30 s is ended as
    /// stalled (the contract), keeping what can be resumed.
    public var stallRule = StallRule()
    /// Peers a search asks at once, and the matches it keeps over all of them.
    public var searchConcurrency = 256
    public var maxSearchMatches = 50_000
    /// Unverified peers (heard of, never answered us) a search asks, after the verified ones.
    public var searchUnverifiedBudget = 64
    /// LAN discovery by DNS-SD (`--discover`).
    public var discover = false
    public var discoveryTTL: UInt32 = 120
    /// The instance name announced; nil: "pplus2 on HOSTNAME:PORT".
    public var discoveryName: String?
    /// Turns the gossip loop off (tests that drive gossip by hand).
    public var gossipEnabled = true

    public init() {}

    /// Limits of the server's event loop.
    public struct ServerLimits: Sendable {
        /// Seconds a caller has, from connecting, to send its whole request line.
        public var requestLineTimeout = 10.0
        /// Connections still sending their request line, over all ports; of one
        /// caller address; of one /24. Past one, the oldest of the heaviest
        /// address (within that /24, or over all) is closed to make room: a
        /// flood of idle connections cannot keep out a real request.
        public var maxPendingConnections = 1024
        public var maxPendingPerAddress = 64
        public var maxPendingPerSubnet = 256
        /// Descriptors kept free of connections and served files, under the
        /// process's limit: the peer's own files, outgoing connections, the console.
        public var reservedDescriptors = 48
    }

    /// How many answers of one service are in progress at once, and of one
    /// caller address; further requests wait their turn in the event loop,
    /// within their request-line deadline, and are reset past it.
    public struct ServiceCapacity: Sendable {
        public var inFlight: Int
        public var perAddress: Int
    }

    /// The configuration the command line asks for. Bootstrap host names are
    /// resolved here, once; an unknown name is a usage error.
    public init(_ options: Options) throws(UsageError) {
        port = options.port
        bind = options.bind
        host = options.host
        directory = options.directory
        gossipInterval = options.gossipInterval
        timeout = options.timeout
        maxDownloadSize = options.maxDownloadSize
        discover = options.discover
        discoveryTTL = options.discoveryTTL
        for bootstrap in options.bootstraps {
            guard let address = HostResolution.address(of: bootstrap.host) else {
                throw UsageError("--bootstrap '\(bootstrap)': cannot resolve '\(bootstrap.host)' to an IPv4 address")
            }
            guard let peer = PeerIdentity(address: address, port: bootstrap.port) else {
                throw UsageError("--bootstrap '\(bootstrap)': \(address) cannot be a peer's address")
            }
            bootstraps.append(peer)
        }
    }
}

/// Host names to addresses: the one place the peer resolves a name (the command
/// line's `--bootstrap`, the console's `/browse`).
enum HostResolution {
    /// A dotted address as is, else the first IPv4 address of the name.
    static func address(of host: String) -> IPv4Address? {
        IPv4Address(host) ?? Resolver.resolveIPv4(host).map(IPv4Address.init)
    }

    /// The identity at `address`, its host name resolved; nil if it has none.
    static func identity(of address: HostPort) -> PeerIdentity? {
        Self.address(of: address.host).flatMap { PeerIdentity(address: $0, port: address.port) }
    }
}

/// The slowest a caller may take an answer or a file, on average, once its
/// first `graceSeconds` are over; slower, it is reset (`Transfer.Rules`).
public struct MinimumRate: Sendable {
    public var bytesPerSecond: Double
    public var graceSeconds: Double

    public init(bytesPerSecond: Double, graceSeconds: Double) {
        self.bytesPerSecond = bytesPerSecond
        self.graceSeconds = graceSeconds
    }
}
