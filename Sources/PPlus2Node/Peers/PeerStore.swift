import PPlus2Core
import PPlus2POSIX

/// The known peers, kept across restarts in a hidden file of the shared folder
/// (`.pplus2-peers`: one identity a line; dotfiles are never offered). A
/// restarted peer rejoins without being told where. The file is replaced
/// atomically (written aside, then renamed over); a corrupt one is ignored
/// with a warning, never fatal.
struct PeerStore: Sendable {
    static let fileName = ".pplus2-peers"
    let folder: Folder

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
    func save(_ peers: [PeerIdentity]) throws(IOFailure) {
        let temporary = "\(Self.fileName).\(ProcessControl.pid).tmp"
        folder.remove(temporary)
        let file = try folder.createExclusive(temporary)
        let text = peers.map { "\($0)\n" }.joined()
        do {
            try Array(text.utf8).withUnsafeBytes { bytes in
                Result { () throws(IOFailure) in try FileWriting.writeAll(file, bytes) }
            }.get()
            try FileWriting.sync(file)
            try folder.renameReplacing(temporary, to: Self.fileName)
        } catch {
            folder.remove(temporary)
            throw error
        }
    }
}
