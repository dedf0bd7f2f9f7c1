import PPlus2Core
import PPlus2POSIX

/// One running P+2 peer: it wires the parts together.
///
/// ```
///            ┌──────────── Server (one event loop) ────────────┐
///  port p    │ PeerListService ── PeerList ◀── GossipLoop      │
///  port p+1  │ QueryService ───── SharedFolder (index)         │
///  port p+2  │ DownloadService ── SharedFolder (sendfile)      │
///            └─────────────────────────────────────────────────┘
///  console ── Search (fan-out) ── PeerClient ──▶ other peers
///          └─ Downloader ──────── PeerClient, SharedFolder (partial → rename)
/// ```
public final class Peer: Sendable {
    public let configuration: Configuration
    /// The identity this peer advertises, `A.B.C.D:p`.
    public let identity: PeerIdentity
    /// The address the listeners are bound to.
    public let bindAddress: IPv4Address
    public let peers: PeerList
    public let folder: SharedFolder
    public let client: PeerClient
    private let server: Server
    private let gossip: GossipLoop
    private let log: Log
    fileprivate let exitOnce = StopFlag()
    private let store: PeerStore
    /// What was last saved, and when (monotonic seconds).
    private let saved = Locked((peers: [PeerIdentity](), at: -Double.infinity))
    /// How many peers came from the saved list at start.
    public let savedPeerCount: Int
    /// LAN discovery, when `--discover` asked for it and it could start.
    public let discovery: LANDiscovery?
    /// Why discovery is not running although asked for.
    public let discoveryProblem: String?

    public var port: UInt16 { identity.port }

    /// Opens the folder, binds the three ports and starts serving and gossip.
    /// When it returns, all three listeners accept connections.
    public init(_ configuration: Configuration, log: Log = Log()) throws(StartError) {
        self.configuration = configuration
        self.log = log
        // sendfile(2) has no flag against SIGPIPE: a caller that hangs up
        // mid-download must cost an EPIPE, not the process.
        ProcessControl.ignoreBrokenPipes()
        do {
            folder = try SharedFolder(path: configuration.directory)
        } catch {
            throw .folder(configuration.directory, reason: error.reason)
        }
        let listeners = try Self.bindTriple(address: configuration.bind, port: configuration.port)
        bindAddress = configuration.bind
        let host = Self.advertisedAddress(configuration)
        identity = PeerIdentity(address: host, port: listeners.port)!
        var ownAddresses: Set<IPv4Address> = [host, configuration.bind]
        if configuration.bind == .any {
            ownAddresses.formUnion(Resolver.interfaces().map { IPv4Address($0.address) })
        }
        let selfFilter = SelfFilter(
            port: listeners.port,
            addresses: ownAddresses,
            includesLoopbackRange: configuration.bind == .any
        )
        peers = PeerList(
            policy: PeerTable.Policy(
                gossipInterval: configuration.gossipInterval,
                capacity: configuration.peerCapacity
            ),
            selfFilter: selfFilter
        )
        for bootstrap in configuration.bootstraps { peers.addBootstrap(bootstrap) }
        store = PeerStore(folder: folder.folder)
        let (savedPeers, warning) = store.load()
        if let warning { log.warning(warning) }
        let before = peers.count
        peers.addSaved(savedPeers)
        savedPeerCount = peers.count - before
        client = PeerClient(timeout: configuration.timeout)

        let sendTimeout = configuration.sendIdleTimeout
        let endpoints = [
            Server.Endpoint(
                listener: listeners.sockets[0],
                service: PeerListService(peers: peers, sendTimeout: sendTimeout, log: log),
                workers: 2,
                queueLimit: 256
            ),
            Server.Endpoint(
                listener: listeners.sockets[1],
                service: QueryService(
                    folder: folder,
                    maxNames: configuration.maxAnswerNames,
                    sendTimeout: sendTimeout,
                    log: log
                ),
                workers: 4,
                queueLimit: 256
            ),
            Server.Endpoint(
                listener: listeners.sockets[2],
                service: DownloadService(folder: folder, sendTimeout: sendTimeout, log: log),
                workers: 16,
                queueLimit: 64
            ),
        ]
        let limits = ServerLimits(
            requestLineTimeout: configuration.requestLineTimeout,
            maxPendingConnections: configuration.maxPendingConnections
        )
        do {
            server = try Server(endpoints: endpoints, limits: limits, log: log)
        } catch {
            throw .system("cannot start the server: \(error)")
        }
        gossip = GossipLoop(
            peers: peers,
            client: client,
            identity: identity,
            interval: configuration.gossipInterval,
            log: log
        )
        saved.withLock { $0.peers = savedPeers }  // what the file holds now
        (discovery, discoveryProblem) = Self.startDiscovery(configuration, identity: identity, peers: peers, log: log)
        gossip.afterContact = { [weak self] in self?.saveKnownPeers(force: false) }
        if configuration.gossipEnabled {
            do {
                try gossip.start()
            } catch {
                discovery?.stop()
                server.stop()
                throw .system("cannot start gossip: \(error)")
            }
        }
    }

    /// Starts LAN discovery if asked. Where it cannot work (no multicast on the
    /// interface, a loopback address, the mDNS port held unshared) the peer
    /// says why and goes on without it: gossip and `--bootstrap` still work.
    private static func startDiscovery(
        _ configuration: Configuration,
        identity: PeerIdentity,
        peers: PeerList,
        log: Log
    ) -> (LANDiscovery?, String?) {
        guard configuration.discover else { return (nil, nil) }
        let name = configuration.discoveryName ?? "pplus2 on \(Resolver.hostName()):\(identity.port)"
        do {
            let discovery = try LANDiscovery(
                identity: identity,
                name: name,
                ttl: configuration.discoveryTTL,
                peers: peers,
                log: log
            )
            try discovery.start()
            return (discovery, nil)
        } catch let error as LANDiscovery.Unavailable {
            log.warning("LAN discovery unavailable: \(error)")
            return (nil, error.description)
        } catch {
            log.warning("LAN discovery unavailable: cannot start its thread: \(error)")
            return (nil, "cannot start its thread: \(error)")
        }
    }

    /// The line printed once all three listeners accept connections.
    public var readinessLine: String {
        "listening on \(bindAddress):\(port) (peers \(port), query \(port + 1), download \(port + 2))"
    }

    /// Stops serving and gossiping, removes partial downloads, saves the peer list.
    public func stop() {
        discovery?.stop()  // first: the goodbye leaves while we still serve
        gossip.stop()
        server.stop()
        folder.closeAndRemovePartials()
        saveKnownPeers(force: true)
    }

    /// Saves the known peers if they changed, at most every 5 s unless forced.
    func saveKnownPeers(force: Bool) {
        let current = peers.peers
        let due: Bool = saved.withLock { saved in
            guard saved.peers != current, force || MonotonicClock.now - saved.at >= 5 else { return false }
            saved = (current, MonotonicClock.now)
            return true
        }
        guard due else { return }
        do {
            try store.save(current)
        } catch {
            log.warning("cannot save the peer list in \(folder.path): \(error.reason)")
        }
    }

    /// The lines printed at start, after the readiness line.
    public var summary: [String] {
        let files = folder.offeredFiles().count
        let bootstraps = configuration.bootstraps.map(\.description).joined(separator: ", ")
        var lines = [
            "this peer: \(identity) (peers \(port), query \(port + 1), download \(port + 2))",
            "shared folder: \(folder.path) (\(files) file\(files == 1 ? "" : "s"))",
            "bootstrap peers: \(bootstraps.isEmpty ? "none (waiting to be contacted)" : bootstraps)",
        ]
        if savedPeerCount > 0 { lines.append("saved peers: \(savedPeerCount) from the last run") }
        if let discovery {
            lines.append(
                "LAN discovery: on, as \"\(discovery.instanceName)\" on \(discovery.interface.name) "
                    + "(\(Discovery.serviceType) via \(Discovery.group):\(Discovery.port))"
            )
        } else if let discoveryProblem {
            lines.append("LAN discovery: unavailable: \(discoveryProblem)")
        } else {
            lines.append("LAN discovery: off (--discover turns it on)")
        }
        return lines
    }

    // MARK: What the console does

    /// Asks every known peer (or only `only`) for `query`.
    public func search(_ query: String, only: [PeerIdentity]? = nil) -> Search.Result {
        Search(client: client).run(query, peers: only ?? peers.peers)
    }

    /// The identity at `address`, its host name resolved; nil if it has none.
    public func resolve(_ address: HostPort) -> PeerIdentity? {
        let ip = IPv4Address(address.host) ?? Resolver.resolveIPv4(address.host).map(IPv4Address.init)
        return ip.flatMap { PeerIdentity(address: $0, port: address.port) }
    }

    /// Downloads a match into the shared folder.
    public func download(
        _ match: Search.Match,
        progress: (Int64) -> Void = { _ in }
    ) throws(DownloadError)
        -> Downloader.Outcome
    {
        try Downloader(client: client, folder: folder, maxSize: configuration.maxDownloadSize)
            .download(match.name, from: match.peer, progress: progress)
    }

    /// One gossip contact with `peer` now (tests and tools; the loop does this
    /// on its own every interval).
    public func gossip(with peer: PeerIdentity) {
        gossip.contact(peer)
    }

    // MARK: Start-up

    /// The contract's rule: `--host`; else the bind address if not 0.0.0.0;
    /// else the local address of the route to the first bootstrap; else, with
    /// `--discover`, the address of the first interface that is up and can
    /// multicast (a loopback address cannot be discovered); else 127.0.0.1.
    static func advertisedAddress(_ configuration: Configuration) -> IPv4Address {
        if let host = configuration.host { return host }
        if configuration.bind != .any { return configuration.bind }
        if let first = configuration.bootstraps.first,
            let local = Resolver.localAddressForRoute(to: first.address.value, port: first.port),
            IPv4Address(local).isUnicastDestination
        {
            return IPv4Address(local)
        }
        if configuration.discover, let lan = LANDiscovery.firstLANAddress() { return lan }
        return .loopback
    }

    private static let serviceNames = ["peers", "query", "download"]

    /// Binds p, p+1 and p+2. With port 0, tries kernel-chosen ports until a
    /// free consecutive triple turns up.
    private static func bindTriple(
        address: IPv4Address,
        port: UInt16
    ) throws(StartError)
        -> (port: UInt16, sockets: [TCPSocket])
    {
        if port != 0 {
            var sockets: [TCPSocket] = []
            for offset in 0..<3 {
                let current = port + UInt16(offset)
                do {
                    sockets.append(try TCPSocket.listen(address: address.value, port: current))
                } catch {
                    if error.errno == .addressInUse { throw .portInUse(current, service: serviceNames[offset]) }
                    throw .cannotListen(current, reason: error.reason)
                }
            }
            return (port, sockets)
        }
        for _ in 0..<200 {
            let first: TCPSocket
            do {
                first = try TCPSocket.listen(address: address.value, port: 0)
            } catch {
                throw .cannotListen(0, reason: error.reason)  // not a busy port: a bad address
            }
            guard let chosen = try? first.localAddress().port,
                chosen <= PeerIdentity.maxBasePort,
                let second = try? TCPSocket.listen(address: address.value, port: chosen + 1),
                let third = try? TCPSocket.listen(address: address.value, port: chosen + 2)
            else { continue }
            return (chosen, [first, second, third])
        }
        throw .noFreePorts
    }
}

extension Peer {
    /// Stops the peer and ends the process with status 0. Safe to call from
    /// several threads at once (a signal and `/quit`): the first one exits.
    public func stopAndExit() -> Never {
        if exitOnce.set() {
            stop()
            ProcessControl.exit(0)
        }
        while true { ProcessControl.waitForever() }
    }
}
