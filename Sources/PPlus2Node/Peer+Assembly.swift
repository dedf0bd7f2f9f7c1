import PPlus2Core
import PPlus2POSIX

// How a peer's parts are built from its configuration: the one place that
// knows which service answers which port, and how the identity is chosen.

extension Peer {
    /// The three services on their listeners, with their capacities.
    static func endpoints(
        _ listeners: ListenerTriple,
        _ configuration: Configuration,
        peers: PeerList,
        folder: SharedFolder,
        hashes: FileHashes,
        log: Log
    ) -> [Server.Endpoint] {
        [
            Server.Endpoint(
                listener: listeners.peerList,
                service: PeerListService(peers: peers, log: log),
                capacity: configuration.peerListCapacity
            ),
            Server.Endpoint(
                listener: listeners.query,
                service: QueryService(folder: folder, hashes: hashes, maxNames: configuration.maxAnswerNames, log: log),
                capacity: configuration.queryCapacity
            ),
            Server.Endpoint(
                listener: listeners.download,
                service: DownloadService(folder: folder, hashes: hashes, log: log),
                capacity: configuration.downloadCapacity
            ),
        ]
    }

    /// The peer list, which never holds this peer itself: its identity, its
    /// bind address and, bound to 0.0.0.0, every address of the machine.
    static func makePeerList(_ configuration: Configuration, identity: PeerIdentity) -> PeerList {
        var ownAddresses: Set<IPv4Address> = [identity.address, configuration.bind]
        if configuration.bind == .any {
            ownAddresses.formUnion(Resolver.interfaces().map { IPv4Address($0.address) })
        }
        let selfFilter = SelfFilter(
            port: identity.port,
            addresses: ownAddresses,
            includesLoopbackRange: configuration.bind == .any
        )
        return PeerList(
            policy: PeerTable.Policy(
                gossipInterval: configuration.gossipInterval,
                capacity: configuration.peerCapacity
            ),
            selfFilter: selfFilter
        )
    }

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

    /// Starts LAN discovery if asked. Where it cannot work (no multicast on the
    /// interface, a loopback address, the mDNS port held unshared) the peer
    /// says why and goes on without it: gossip and `--bootstrap` still work.
    static func startDiscovery(
        _ configuration: Configuration,
        identity: PeerIdentity,
        peers: PeerList,
        log: Log
    ) -> (LANDiscovery?, String?) {
        guard configuration.discover else { return (nil, nil) }
        let name = configuration.discoveryName ?? "pplus2 on \(Resolver.hostName()):\(identity.port)"
        let discovery: LANDiscovery
        do {
            discovery = try LANDiscovery(
                identity: identity,
                name: name,
                ttl: configuration.discoveryTTL,
                peers: peers,
                log: log
            )
        } catch {
            log.warning("LAN discovery unavailable: \(error)")
            return (nil, error.description)
        }
        do {
            try discovery.start()
            return (discovery, nil)
        } catch {
            log.warning("LAN discovery unavailable: cannot start its thread: \(error)")
            return (nil, "cannot start its thread: \(error)")
        }
    }
}

/// The three listening sockets of a peer: p, p+1, p+2.
struct ListenerTriple {
    let port: UInt16
    let peerList: TCPSocket
    let query: TCPSocket
    let download: TCPSocket

    private static let serviceNames = ["peers", "query", "download"]

    /// Binds p, p+1 and p+2. With port 0, tries kernel-chosen ports until a
    /// free consecutive triple turns up.
    static func bind(address: IPv4Address, port: UInt16) throws(StartError) -> ListenerTriple {
        port == 0 ? try bindAnyFree(address: address) : try bindExactly(address: address, port: port)
    }

    private static func bindExactly(address: IPv4Address, port: UInt16) throws(StartError) -> ListenerTriple {
        var sockets: [TCPSocket] = []
        for offset in 0..<3 {
            let current = port + UInt16(offset)
            do {
                sockets.append(try TCPSocket.listen(address: address.value, port: current))
            } catch {
                if error.errno == .addressInUse { throw .portInUse(current, service: serviceNames[offset]) }
                throw .cannotListen(current, error)
            }
        }
        return ListenerTriple(port: port, peerList: sockets[0], query: sockets[1], download: sockets[2])
    }

    private static func bindAnyFree(address: IPv4Address) throws(StartError) -> ListenerTriple {
        for _ in 0..<200 {
            let first: TCPSocket
            do {
                first = try TCPSocket.listen(address: address.value, port: 0)
            } catch {
                throw .cannotListen(0, error)  // not a busy port: a bad address
            }
            guard let chosen = try? first.localAddress().port,
                chosen <= PeerIdentity.maxBasePort,
                let second = try? TCPSocket.listen(address: address.value, port: chosen + 1),
                let third = try? TCPSocket.listen(address: address.value, port: chosen + 2)
            else { continue }
            return ListenerTriple(port: chosen, peerList: first, query: second, download: third)
        }
        throw .noFreePorts
    }
}
