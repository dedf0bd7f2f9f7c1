import PPlus2Core
import PPlus2POSIX

/// Port p+2: the raw bytes of one offered file; and the extension's
/// `\u{1}get OFFSET LENGTH SHA256 NAME`: a header with the file's size and
/// hash, then the asked range. The event loop streams the range with
/// non-blocking `sendfile(2)`. And `\u{1}chain SHA256 NAME`: the same header,
/// then the file's piece list (`PieceList`) when that version's are known.
///
/// Anything that is not an offered file gets no byte at all. An offered file
/// that cannot be opened now (no descriptor left) is refused with a reset.
/// Whatever could leave the caller with a cut or mixed file ends in a reset
/// (the loop: a send that fails, a file that changed while it was sent, a stop).
struct DownloadService: Service {
    let folder: SharedFolder
    let hashes: FileHashes
    let log: Log

    var name: String { "download" }
    var opensFiles: Bool { true }

    func answer(_ request: String, from caller: UInt32) -> Answer {
        guard Extension.isExtended(request) else {
            guard let (file, status) = open(request, paths: false) else { return refusal(request, paths: false) }
            log.debug("download \"\(request)\" to \(IPv4Address(caller)): \(status.size) bytes")
            return .file(header: [], file: file, status: status, offset: 0, count: status.size, name: request)
        }
        let offset: Int64
        let length: Int64?
        let wanted: SHA256Digest?
        let name: String
        switch Extension.parse(request) {
        case .get(let from, let count, let sha256, let file)?:
            (offset, length, wanted, name) = (from, count, sha256, file)
        case .pieces(let sha256, let file)?: return pieces(of: file, ifItIs: sha256)
        default:
            log.debug("download: ignored an extended request it does not know")
            return .nothing
        }
        guard let (file, status) = open(name, paths: true) else { return refusal(name, paths: true) }
        let known = hashes.sha256(of: status)
        let header = Array((Extension.getHeader(size: status.size, sha256: known) + "\n").utf8)
        // Another version than asked for, or past the end: the header alone tells the caller.
        if let wanted, let known, wanted != known { return .bytes(header) }
        guard offset <= status.size else { return .bytes(header) }
        let count = min(length ?? status.size, status.size - offset)
        log.debug("download \"\(name)\" to \(IPv4Address(caller)): \(count) bytes from \(offset)")
        return .file(header: header, file: file, status: status, offset: offset, count: count, name: name)
    }

    /// The header, then the piece lines if the file is the version asked
    /// for and its pieces are hashed; the header alone otherwise.
    private func pieces(of name: String, ifItIs wanted: SHA256Digest) -> Answer {
        guard SharedPath.isValid(name), let status = folder.offeredStatus(of: name) else { return .nothing }
        let known = hashes.sha256(of: status)
        var lines = [Extension.getHeader(size: status.size, sha256: known)]
        if known == wanted, let pieces = hashes.pieces(of: status) { lines += Extension.pieceLines(pieces) }
        return answerLines(lines)
    }

    /// Nothing for a name not offered; a reset for an offered file the
    /// process has no descriptor left to open.
    private func refusal(_ name: String, paths: Bool) -> Answer {
        SharedPath.isValid(name, folders: paths) && folder.offeredSize(of: name) != nil ? .refuse : .nothing
    }

    /// `paths`: a relative path of the tree may be asked for (the extension).
    private func open(_ name: String, paths: Bool) -> (FileDescriptor, FileStatus)? {
        // In a sub-folder, only what the index offers (not past the tree's bounds).
        if paths && !SharedPath.isTopLevel(name.utf8) && folder.offeredStatus(of: name) == nil { return nil }
        do {
            let opened = try folder.openForServing(name, paths: paths)
            return (opened.file, opened.status)
        } catch {
            log.debug("download \"\(name)\": not served (\(error.reason))")
            return nil
        }
    }
}
