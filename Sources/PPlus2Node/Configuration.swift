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
    /// Seconds a caller has to send its request line.
    public var requestLineTimeout = 10.0
    /// Seconds a caller may stop reading an answer before it is dropped.
    public var sendIdleTimeout = 30.0
    public var peerCapacity = 1000
    /// The most names one query answer carries.
    public var maxAnswerNames = 10_000
    /// The largest download accepted (64 GiB).
    public var maxDownloadSize: Int64 = 64 << 30
    /// Connections still sending their request line, over the three ports.
    public var maxPendingConnections = 1024
    /// LAN discovery by DNS-SD (`--discover`).
    public var discover = false
    public var discoveryTTL: UInt32 = 120
    /// The instance name announced; nil: "pplus2 on HOSTNAME:PORT".
    public var discoveryName: String?
    /// Turns the gossip loop off (tests that drive gossip by hand).
    public var gossipEnabled = true

    public init() {}

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
            let address = IPv4Address(bootstrap.host) ?? Resolver.resolveIPv4(bootstrap.host).map(IPv4Address.init)
            guard let address else {
                throw UsageError("--bootstrap '\(bootstrap)': cannot resolve '\(bootstrap.host)' to an IPv4 address")
            }
            guard let peer = PeerIdentity(address: address, port: bootstrap.port) else {
                throw UsageError("--bootstrap '\(bootstrap)': \(address) cannot be a peer's address")
            }
            bootstraps.append(peer)
        }
    }
}

/// Why a peer could not start; each case carries its exit status.
public enum StartError: Error, Equatable, CustomStringConvertible {
    case portInUse(UInt16, service: String)
    case cannotListen(UInt16, reason: String)
    case folder(String, reason: String)
    case noFreePorts
    case system(String)

    public var description: String {
        switch self {
        case .portInUse(let port, let service): "port \(port) (\(service)) is already in use"
        case .cannotListen(let port, let reason): "cannot listen on port \(port): \(reason)"
        case .folder(let path, let reason): "cannot use the shared folder \(path): \(reason)"
        case .noFreePorts: "found no three free consecutive ports"
        case .system(let reason): reason
        }
    }

    public var exitStatus: Int32 { 1 }
}
