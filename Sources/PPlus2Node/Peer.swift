import PPlus2Core
import PPlus2POSIX

/// One running P+2 peer. It only wires the parts together; each part is built
/// in `Peer+Assembly.swift` from the `Configuration`.
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
public final class Peer: ThreadOwner {
    public let configuration: Configuration
    /// The identity this peer advertises, `A.B.C.D:p`.
    public let identity: PeerIdentity
    /// The address the listeners are bound to.
    public let bindAddress: IPv4Address
    public let peers: PeerList
    public let folder: SharedFolder
    /// The SHA-256 of the offered files, computed in the background.
    let hashes: FileHashes
    let client: PeerClient
    let store: PeerStore
    /// Peers caught sending wrong bytes in this run.
    public let liars = Liars()
    /// LAN discovery, when `--discover` asked for it and it could start.
    let discovery: LANDiscovery?
    /// Why discovery is not running although asked for.
    let discoveryProblem: String?
    private let server: Server
    private let gossip: GossipLoop
    private let exitOnce = OnceFlag()

    public var port: UInt16 { identity.port }

    /// When the peer started (monotonic seconds).
    let startedAt = MonotonicClock.now

    /// Opens the folder, binds the three ports and starts serving and gossip.
    /// When it returns, all three listeners accept connections.
    public init(_ configuration: Configuration, log: Log = Log()) throws(StartError) {
        // sendfile(2) has no flag against SIGPIPE: a caller that hangs up
        // mid-download must cost an EPIPE, not the process.
        ProcessControl.ignoreBrokenPipes()
        self.configuration = configuration
        // The ports first: a start that fails on a busy port leaves no folder behind.
        let listeners = try ListenerTriple.bind(address: configuration.bind, port: configuration.port)
        do {
            folder = try SharedFolder(
                path: configuration.directory,
                keptPartials: configuration.keptPartials,
                log: log
            )
        } catch {
            throw .folder(configuration.directory, error)
        }
        hashes = FileHashes(folder: folder, log: log)
        bindAddress = configuration.bind
        identity = PeerIdentity(address: Self.advertisedAddress(configuration), port: listeners.port)!
        peers = Self.makePeerList(configuration, identity: identity)
        store = PeerStore(folder: folder.directory, log: log)
        store.restore(into: peers, bootstraps: configuration.bootstraps)
        client = PeerClient(
            timeout: configuration.timeout,
            source: configuration.bind == .any ? nil : configuration.bind
        )
        do {
            server = try Server(
                endpoints: Self.endpoints(
                    listeners,
                    configuration,
                    peers: peers,
                    folder: folder,
                    hashes: hashes,
                    log: log
                ),
                limits: configuration.server,
                rules: Transfer.Rules(
                    minimumRate: configuration.minimumSendRate.bytesPerSecond,
                    graceSeconds: configuration.minimumSendRate.graceSeconds,
                    idleSeconds: configuration.sendIdleTimeout
                ),
                log: log
            )
        } catch {
            throw .cannotStart(part: "server", error)
        }
        gossip = GossipLoop(peers: peers, client: client, identity: identity, configuration: configuration, log: log)
        (discovery, discoveryProblem) = Self.startDiscovery(configuration, identity: identity, peers: peers, log: log)
        try startBackgroundThreads()
    }

    private func startBackgroundThreads() throws(StartError) {
        do {
            try folder.start()
            try hashes.start()
        } catch {
            stop()
            join()
            throw .cannotStart(part: "folder index or hashing thread", error)
        }
        guard configuration.gossipEnabled else { return }
        gossip.afterContact = { [store, peers] in store.save(peers.identitiesWorthSaving, force: false) }
        do {
            try gossip.start()
        } catch {
            stop()
            join()
            throw .cannotStart(part: "gossip loop", error)
        }
    }

    /// Stops LAN discovery (its goodbye leaves while we still serve), gossip and
    /// the server; every transfer in progress is reset. Idempotent.
    public func stop() {
        discovery?.stop()
        gossip.stop()
        server.stop()
        hashes.stop()
        folder.stop()
    }

    /// Waits for every thread to end, then removes partial downloads and saves
    /// the peer list. Idempotent.
    public func join() {
        discovery?.join()
        gossip.join()
        server.join()
        hashes.join()
        folder.join()
        folder.closePartials()
        store.save(peers.identitiesWorthSaving, force: true)
    }

    /// Stops the peer and ends the process with status 0. Safe to call from
    /// several threads at once (a signal and `/quit`): the first one exits.
    public func stopAndExit() -> Never {
        if exitOnce.set() {
            stop()
            join()
            ProcessControl.exit(0)
        }
        while true { ProcessControl.waitForever() }
    }

    // MARK: What the console and tests do

    /// Asks every known peer (or only `only`) for `query`.
    public func search(_ query: String, only: [PeerIdentity]? = nil) -> Search.Result {
        var search = Search(client: client)
        search.maxConcurrentPeers = configuration.searchConcurrency
        search.maxMatches = configuration.maxSearchMatches
        let result: Search.Result
        let asked: [PeerIdentity]
        if let only {
            asked = only
            result = search.run(query, peers: only)
        } else {
            let plan = peers.searchPlan(unverifiedBudget: configuration.searchUnverifiedBudget)
            asked = plan.peers
            result = search.run(query, peers: plan.peers, askOrder: plan.askOrder)
        }
        // A peer that answered is a contact that worked, as a gossip contact is (/peers).
        let failed = Set(result.failures.map(\.peer))
        for peer in asked where !failed.contains(peer) { peers.recordSuccess(peer) }
        return result
    }

    /// Downloads a match into the shared folder.
    public func download(
        _ match: Search.Match,
        cancellation: DownloadCancellation? = nil,
        report: (Downloader.Event) -> Void = { _ in }
    ) throws(DownloadError)
        -> Downloader.Outcome
    {
        try download([match], cancellation: cancellation, report: report)
    }

    /// Downloads `copies[0]`, from every peer among `copies` that offers the
    /// same content at once (`Downloader.download(copies:)`).
    public func download(
        _ copies: [Search.Match],
        cancellation: DownloadCancellation? = nil,
        report: (Downloader.Event) -> Void = { _ in }
    ) throws(DownloadError)
        -> Downloader.Outcome
    {
        var downloader = Downloader(
            client: client,
            folder: folder,
            maxSize: configuration.maxDownloadSize,
            cancellation: cancellation
        )
        downloader.stallRule = configuration.stallRule
        downloader.liars = liars
        // A verified file is offered with its hash at once, never read again for it.
        downloader.verified = { [folder, hashes] name, sha256, pieces in
            guard let entry = folder.directory.entry(named: Array(name.utf8)), entry.kind == .regular else { return }
            hashes.adopt(entry.status, sha256: sha256, pieces: pieces)
        }
        let outcome = try downloader.download(copies: copies, report: report)
        if case .saved = outcome, let first = copies.first { peers.recordSuccess(first.peer) }
        return outcome
    }

    /// One gossip contact with `peer` now (tests and tools; the loop does this
    /// on its own every interval).
    public func gossip(with peer: PeerIdentity) {
        gossip.contact(peer)
    }
}
