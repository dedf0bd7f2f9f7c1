import PPlus2Core
import PPlus2POSIX

// The peer's errors: cases with structure (what was being done, on which port,
// folder or peer, and the underlying `IOFailure` with its `Errno`). Their
// descriptions, below each type, are the one place their words are made; the
// console, the command line and the log all print these.

/// Why a peer could not start; each case carries its exit status.
public enum StartError: Error, Equatable, CustomStringConvertible {
    case portInUse(UInt16, service: String)
    case cannotListen(UInt16, IOFailure)
    case folder(String, IOFailure)
    case noFreePorts
    /// A thread of `part` (the server, gossip) could not be started.
    case cannotStart(part: String, IOFailure)

    public var description: String {
        switch self {
        case .portInUse(let port, let service):
            "port \(port) (\(service)) is already in use (another peer? --port 0 picks a free triple)"
        case .cannotListen(let port, let failure): "cannot listen on port \(port): \(failure.reason)"
        case .folder(let path, let failure): "cannot use the shared folder \(path): \(failure.reason)"
        case .noFreePorts: "found no three free consecutive ports"
        case .cannotStart(let part, let failure): "cannot start the \(part): \(failure)"
        }
    }

    public var exitStatus: Int32 { 1 }
}

/// Why a download failed.
public enum DownloadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name is not a valid shared-file name: nothing was requested.
    case invalidName
    /// The other peer could not be reached, or did not take the request.
    case unreachable(PeerIdentity, IOFailure)
    /// The other peer broke off (a reset, a timeout) after `bytes` bytes.
    case brokeOff(PeerIdentity, bytes: Int64, IOFailure)
    /// The other peer sent less than the stall rule's floor in its window.
    case stalled(PeerIdentity, bytes: Int64, StallRule)
    /// Doing `step` in the shared folder at `folder` failed (disk full, folder
    /// gone, no permission).
    case local(LocalStep, folder: String, IOFailure)
    /// Every candidate name, `name (1).ext` to `name (999).ext`, is taken.
    case noFreeName(String)
    /// The path cannot be saved here: a folder of it is a file or a symbolic link.
    case unsafePath(String, String)
    /// The answer grew past the size limit, or announced a size past it.
    case tooLarge(Int64)
    /// The announced size does not fit in the folder's free space.
    case noSpace(needed: Int64, free: Int64)
    /// The peer now offers another version than the one listed.
    case changed(PeerIdentity, size: Int64, sha256: SHA256Digest?)
    /// The answer to an extended `get` did not start with the extension's header.
    case badHeader(PeerIdentity)
    /// The peer closed an extended `get` without a byte: it does not offer the name (any more).
    case answeredNothing(PeerIdentity)
    /// The peer closed cleanly after `bytes` of the announced `size`.
    case cutShort(PeerIdentity, bytes: Int64, size: Int64)
    /// The peer sent more than the size it announced.
    case tooLong(PeerIdentity, size: Int64)
    /// The whole file arrived but its SHA-256 is not the one announced.
    case hashMismatch(PeerIdentity, expected: SHA256Digest, actual: SHA256Digest)
    /// A piece from the peer does not match the piece list the peer itself
    /// announced (`\u{1}chain`): piece `piece` (from 0) of `count`.
    case badPiece(PeerIdentity, piece: Int, count: Int)
    /// The peer is shutting down.
    case stopping
    /// Cancelled (`/cancel`, Ctrl-C, a quit) after `bytes` bytes from the peer.
    case cancelled(PeerIdentity, bytes: Int64)
    /// Every copy is on a peer caught sending wrong bytes earlier in this run.
    case distrusted(PeerIdentity)

    /// What the downloading peer was doing in its own folder.
    public enum LocalStep: Equatable, Sendable {
        case creatingPartial
        case writing
        case saving(as: String)
        case verifying
    }

    /// Whether the bytes received so far may be kept to resume from: the peer
    /// broke off or ended early, but nothing said they were wrong (after a bad
    /// piece, the bytes kept are the pieces checked before it).
    public var leavesAResumablePartial: Bool {
        switch self {
        case .brokeOff, .stalled, .cutShort, .stopping, .cancelled, .badPiece: true
        default: false
        }
    }

    /// Whether the failure says nothing of bytes already kept: a source that
    /// cannot be reached, answers nothing, names another version or no
    /// header at all, or sends more than it announced. A kept partial resumed
    /// from survives it.
    public var leavesKeptBytesAlone: Bool {
        switch self {
        case .unreachable, .changed, .badHeader, .answeredNothing, .distrusted, .tooLong: true
        default: leavesAResumablePartial
        }
    }

    public var description: String {
        switch self {
        case .invalidName: "the name is not a valid shared-file name"
        case .unreachable(let peer, let failure): "\(peer): \(failure.reason)"
        case .brokeOff(let peer, let bytes, let failure): "\(peer) broke off after \(bytes) bytes: \(failure.reason)"
        case .stalled(let peer, let bytes, let rule):
            "\(peer) stalled after \(bytes) bytes: less than \(Formatting.bytes(rule.bytes)) in \(Formatting.seconds(rule.seconds))"
        case .local(.creatingPartial, let folder, let failure): "cannot create a file in \(folder): \(failure.reason)"
        case .local(.writing, let folder, let failure): "cannot write to \(folder): \(failure.reason)"
        case .local(.saving(let name), let folder, let failure): "cannot save \(name) in \(folder): \(failure.reason)"
        case .local(.verifying, let folder, let failure): "cannot read back the file in \(folder): \(failure.reason)"
        case .noFreeName(let name): "no free name for \(name)"
        case .unsafePath(let name, let why): "\(VisibleName.text(name)) cannot be saved here: \(why)"
        case .tooLarge(let limit):
            "the file is larger than the limit of \(Formatting.bytes(limit)) (--max-download-size)"
        case .noSpace(let needed, let free):
            "it needs \(Formatting.bytes(needed)) and the shared folder's disk has \(Formatting.bytes(free)) free"
        case .changed(let peer, let size, _): "\(peer) now offers another version of it (\(Formatting.bytes(size)))"
        case .badHeader(let peer): "\(peer) did not answer in the extension's form"
        case .answeredNothing(let peer): "\(peer) no longer offers the file"
        case .distrusted(let peer): "\(peer) sent wrong bytes earlier in this run: it is not asked again (/peers)"
        case .cancelled(let peer, let bytes): "cancelled after \(bytes) bytes from \(peer)"
        case .cutShort(let peer, let bytes, let size): "\(peer) ended the file after \(bytes) of \(size) bytes"
        case .tooLong(let peer, let size): "\(peer) sent more than the \(size) bytes it announced"
        case .hashMismatch(let peer, let expected, let actual):
            "the bytes from \(peer) are not the file announced: sha256 \(actual.prefix) instead of \(expected.prefix)"
        case .badPiece(let peer, let piece, let count):
            "\(peer) sent piece \(piece + 1) of \(count) with other bytes than the SHA-256 it announced for it"
        case .stopping: "the peer is stopping"
        }
    }
}
