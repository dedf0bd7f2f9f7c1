import PPlus2Core
import PPlus2POSIX

/// The known peers, kept across restarts in a hidden file of the shared folder
/// (`HiddenFile.peerList`: one identity a line; dotfiles are never offered). A
/// restarted peer rejoins without being told where. The file is replaced
/// atomically (written aside, then renamed over), when the list changed and at
/// most every 5 s unless forced; a corrupt one is ignored with a warning, never
/// fatal.
final class PeerStore: Sendable {
    static let fileName = HiddenFile.peerList.name
    /// Seconds between two saves of a changing list.
    static let minimumSpacing = 5.0

    let folder: Folder
    private let log: Log
    /// What the file holds, and when it was written (monotonic seconds).
    private let saved = Locked((peers: [PeerIdentity](), at: -Double.infinity))
    /// How many peers came from the saved list at start.
    private let restored = Locked(0)

    init(folder: Folder, log: Log) {
        self.folder = folder
        self.log = log
    }

    /// Peers added from the file at start that `--bootstrap` had not named.
    var restoredCount: Int { restored.withLock { $0 } }

    /// Adds the bootstrap peers, then the saved ones, to `peers`.
    func restore(into peers: PeerList, bootstraps: [PeerIdentity]) {
        for bootstrap in bootstraps { peers.addBootstrap(bootstrap) }
        let (savedPeers, warning) = load()
        if let warning { log.warning(warning) }
        let before = peers.count
        peers.addSaved(savedPeers)
        restored.withLock { $0 = peers.count - before }
        saved.withLock { $0.peers = savedPeers }
    }

    /// Saves `peers` if they differ from the file, at most every 5 s unless `force`.
    func save(_ peers: [PeerIdentity], force: Bool) {
        let now = MonotonicClock.now
        let due: Bool = saved.withLock { saved in
            guard saved.peers != peers, force || now - saved.at >= Self.minimumSpacing else { return false }
            saved = (peers, now)
            return true
        }
        guard due else { return }
        do {
            try write(peers)
        } catch {
            log.warning("cannot save the peer list in \(folder.path): \(error.reason)")
        }
    }

    /// The saved peers, and a warning if some or all of the file was unreadable.
    func load() -> (peers: [PeerIdentity], warning: String?) {
        let bytes: [UInt8]?
        do {
            bytes = try folder.readSmallFile(Self.fileName, maxBytes: PeerListAnswer.maxBytes)
        } catch {
            return ([], "ignoring the saved peer list \(Self.fileName): \(error.reason)")
        }
        guard let bytes, !bytes.isEmpty else { return ([], nil) }
        let parsed = PeerListAnswer(parsing: bytes)
        if parsed.peers.isEmpty {
            return ([], "ignoring the saved peer list \(Self.fileName): it holds no valid peer")
        }
        let warning =
            parsed.skippedLines > 0
            ? "the saved peer list \(Self.fileName) had \(parsed.skippedLines) invalid lines: skipped" : nil
        return (parsed.peers, warning)
    }

    /// Replaces the saved list with `peers`.
    private func write(_ peers: [PeerIdentity]) throws(IOFailure) {
        try folder.replaceSmallFile(
            Self.fileName,
            with: Array(peers.map { "\($0)\n" }.joined().utf8),
            draft: HiddenFile.peerListDraft(pid: ProcessControl.pid).name
        )
    }
}
