import PPlus2Core
import PPlus2POSIX

/// What the console needs of a peer, and nothing more: it asks, the peer
/// answers with values, the console renders them. (`Peer` is the one
/// implementation; a test can give the console another.)
public protocol ConsolePeer: Sendable {
    var identity: PeerIdentity { get }
    /// The shared folder's absolute path.
    var sharedFolderPath: String { get }
    var knownPeerCount: Int { get }
    /// While the peer list is young (its first three gossip intervals): how
    /// many peers are known so far (the console says it to a person who
    /// searches at once); nil once it is not.
    var peersKnownWhileYoung: Int? { get }
    /// Right after the start, waits (at most the first gossip turn and one
    /// contact's timeout) for the first contact with a bootstrap peer to end,
    /// so a script's first query sees the swarm, not the bootstrap alone.
    func waitForFirstContact()
    /// Asks every known peer (or only `only`) for `query`.
    func search(_ query: String, only: [PeerIdentity]?) -> Search.Result
    /// The identity at `address`, its host name resolved; nil if it has none.
    func resolve(_ address: HostPort) -> PeerIdentity?
    /// Downloads `copies[0]`, from the other copies of the same content too.
    func download(
        _ copies: [Search.Match],
        cancellation: DownloadCancellation?,
        report: (Downloader.Event) -> Void
    ) throws(DownloadError) -> Downloader.Outcome
    /// The peer table as `/peers` shows it.
    func peerReport() -> PeerReport
    /// The files this peer offers, sorted by name.
    func sharedFiles() -> [SharedFolder.OfferedFile]
    /// The size of the file this peer offers under `name`, if it offers one.
    func sharedSize(of name: String) -> Int64?
    /// Broken-off downloads kept to be resumed, newest first.
    func keptDownloads() -> [KeptDownload]
    /// For each of `contents` this peer offers (its hash known), the name of a file that holds it.
    func localNames(withContents contents: Set<SHA256Digest>) -> [SHA256Digest: String]
}

/// A snapshot of the peer table for `/peers`.
public struct PeerReport: Sendable {
    public var entries: [PeerTable.Entry]
    /// Dropped peers, oldest first.
    public var dropped: [PeerTable.DroppedPeer]
    /// The LAN instance name of each peer that discovery resolves.
    public var instanceNames: [PeerIdentity: String]
    /// Peers caught sending wrong bytes in this run, and why: not asked again.
    public var liars: [PeerIdentity: String] = [:]
}

extension Peer: ConsolePeer {
    public var sharedFolderPath: String { folder.path }

    public var knownPeerCount: Int { peers.count }

    public var peersKnownWhileYoung: Int? {
        guard configuration.gossipEnabled, MonotonicClock.now - startedAt < 3 * configuration.gossipInterval,
            !peers.entries.contains(where: { $0.lastSuccess != nil })  // a contact answered: the list is known
        else { return nil }
        return peers.count
    }

    public func waitForFirstContact() {
        guard configuration.gossipEnabled, !configuration.bootstraps.isEmpty else { return }
        let deadline = startedAt + 0.3 + configuration.timeout
        let waiter = ConditionLock()
        while MonotonicClock.now < deadline {
            let contacted = peers.entries.contains { entry in
                entry.origin == .bootstrap && (entry.lastSuccess != nil || entry.consecutiveFailures > 0)
            }
            if contacted { return }
            waiter.withLock { _ = waiter.wait(until: min(deadline, MonotonicClock.now + 0.02)) }
        }
    }

    public func resolve(_ address: HostPort) -> PeerIdentity? {
        HostResolution.identity(of: address)
    }

    public func peerReport() -> PeerReport {
        PeerReport(
            entries: peers.entries,
            dropped: peers.dropped,
            instanceNames: discovery?.discovered ?? [:],
            liars: liars.all
        )
    }

    public func sharedFiles() -> [SharedFolder.OfferedFile] {
        folder.offeredFiles()
    }

    public func sharedSize(of name: String) -> Int64? {
        folder.offeredSize(of: name)
    }

    public func keptDownloads() -> [KeptDownload] {
        folder.keptDownloads()
    }

    public func localNames(withContents contents: Set<SHA256Digest>) -> [SHA256Digest: String] {
        guard !contents.isEmpty else { return [:] }
        var found: [SHA256Digest: String] = [:]
        for file in folder.offeredFiles() {
            if let digest = hashes.sha256(of: file.status), contents.contains(digest), found[digest] == nil {
                found[digest] = file.name
            }
        }
        return found
    }
}
