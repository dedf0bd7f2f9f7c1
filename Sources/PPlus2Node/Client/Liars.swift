import PPlus2Core
import PPlus2POSIX

/// The peers caught lying in this run: a source whose bytes did not match
/// the SHA-256 it announced (for the file, or for a piece), that sent more
/// than the size it announced, or whose piece hashes were not the content's.
/// Not asked again for any content until the peer restarts (libtorrent's ban
/// of the peer that sent a bad piece), never offered by the console's "press
/// Enter to try", shown in `/peers` with why.
public final class Liars: Sendable {
    private let caught = Locked<[PeerIdentity: String]>([:])

    public init() {}

    /// Records `error` if it shows its peer lying; returns true if so.
    @discardableResult
    func record(_ error: DownloadError, name: String) -> Bool {
        let why: (PeerIdentity, String)? =
            switch error {
            case .hashMismatch(let peer, let expected, _):
                (peer, "sent \(VisibleName.text(name)) with another SHA-256 than the \(expected.prefix)… it announced")
            case .badPiece(let peer, let piece, let count):
                (
                    peer,
                    "sent piece \(piece + 1) of \(count) of \(VisibleName.text(name)) unlike the piece list it announced"
                )
            case .tooLong(let peer, let size):
                (peer, "sent more of \(VisibleName.text(name)) than the \(size) bytes it announced")
            default: nil
            }
        guard let (peer, reason) = why else { return false }
        caught.withLock { $0[peer] = $0[peer] ?? reason }
        return true
    }

    /// Records `peer` as having announced a piece list of `name` that is not
    /// the content's: it does not end at the content's SHA-256, or the file
    /// saved verified has another.
    func recordFalsePieces(_ peer: PeerIdentity, name: String) {
        let reason = "announced a piece list of \(VisibleName.text(name)) that is not its SHA-256's"
        caught.withLock { $0[peer] = $0[peer] ?? reason }
    }

    public func contains(_ peer: PeerIdentity) -> Bool { caught.withLock { $0[peer] != nil } }

    /// Each peer caught, and why.
    public var all: [PeerIdentity: String] { caught.withLock { $0 } }
}
