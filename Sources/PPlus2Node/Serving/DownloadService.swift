import PPlus2Core
import PPlus2POSIX

/// Port p+2: the raw bytes of one offered file, streamed by `sendfile(2)`; and
/// the extension's `\u{1}get OFFSET LENGTH SHA256 NAME`: a header with the
/// file's size and hash, then the asked range.
///
/// Anything that is not an offered file gets no byte at all. Whatever could
/// leave the caller with a cut or mixed file ends in a TCP reset, never a clean
/// close: a send that fails, a file that is shorter than when it was opened,
/// or a file whose size or modification time differ at the end from the start
/// (one still being copied in, or rewritten in place). A stop of the peer
/// resets every transfer too (`Server`).
struct DownloadService: Service {
    let folder: SharedFolder
    let hashes: FileHashes
    let sendTimeout: Double
    let minimumRate: MinimumRate
    let log: Log

    var name: String { "download" }

    func serve(_ request: String, on connection: Connection) {
        guard Extension.isExtended(request) else { return serve(plain: request, on: connection) }
        guard case .get(let offset, let length, let wanted, let name)? = Extension.parse(request) else {
            log.debug("download: ignored an extended request it does not know")
            return
        }
        guard let (file, status) = open(name) else { return }
        let known = hashes.sha256(of: status)
        let header = Array((Extension.getHeader(size: status.size, sha256: known) + "\n").utf8)
        do {
            try connection.socket.send(header, idleTimeout: sendTimeout)
        } catch {
            return connection.cutOff()
        }
        // Another version than asked for, or past the end: the header alone tells the caller.
        if let wanted, let known, wanted != known { return }
        guard offset <= status.size else { return }
        let count = min(length ?? status.size, status.size - offset)
        send(name, file, status: status, from: offset, count: count, on: connection)
    }

    private func serve(plain name: String, on connection: Connection) {
        guard let (file, status) = open(name) else { return }
        send(name, file, status: status, from: 0, count: status.size, on: connection)
    }

    private func open(_ name: String) -> (FileDescriptor, FileStatus)? {
        do {
            let opened = try folder.openForServing(name)
            return (opened.file, opened.status)
        } catch {
            log.debug("download \"\(name)\": not offered (\(error.reason))")
            return nil
        }
    }

    private func send(
        _ name: String,
        _ file: FileDescriptor,
        status: FileStatus,
        from offset: Int64,
        count: Int64,
        on connection: Connection
    ) {
        do {
            let sent = try connection.socket.sendFile(
                file,
                offset: offset,
                count: count,
                idleTimeout: sendTimeout,
                minimumRate: minimumRate
            )
            let now = try file.status()
            guard sent == count, now.size == status.size, now.modified == status.modified else {
                log.warning("\(name) changed while it was sent: transfer reset")
                return connection.cutOff()
            }
            log.debug("download \"\(name)\" to \(connection.caller): \(sent) bytes from \(offset)")
        } catch {
            log.debug("download \"\(name)\" to \(connection.caller) broken off: \(error)")
            connection.cutOff()
        }
    }
}
