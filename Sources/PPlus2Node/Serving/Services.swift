import PPlus2Core
import PPlus2POSIX

/// Port p: the caller sends its identity (or any line); the answer is the list
/// of known peers, one `A.B.C.D:p` a line, never the caller's advertised
/// identity and never our own. A valid identity is learned.
struct PeerListService: Service {
    let peers: PeerList
    let sendTimeout: Double
    let log: Log

    var name: String { "peers" }

    func serve(_ request: String, on connection: TCPSocket) {
        let caller = PeerIdentity(request)
        if let caller { peers.learnFirstHand(caller) }
        let listed = peers.answer(excluding: caller)
        log.debug("peer list to \(caller?.description ?? "an anonymous caller"): \(listed.count) peers")
        send(lines: listed.lazy.map(\.description), on: connection, timeout: sendTimeout)
    }
}

/// Port p+1: the answer is the names of the offered files that contain the
/// query (Unicode case-insensitive), sorted, at most `maxNames`.
struct QueryService: Service {
    let folder: SharedFolder
    let maxNames: Int
    let sendTimeout: Double
    let log: Log

    var name: String { "query" }

    func serve(_ request: String, on connection: TCPSocket) {
        let names = folder.search(request, limit: maxNames)
        log.debug("query \"\(request)\": \(names.count) matches")
        send(lines: names, on: connection, timeout: sendTimeout)
    }
}

/// Port p+2: the raw bytes of one offered file, streamed by `sendfile(2)`.
/// Anything that is not an offered file gets no byte at all. A file that
/// shrinks while it is sent ends in a reset, not a clean close, so the caller
/// cannot mistake the short copy for the whole file.
struct DownloadService: Service {
    let folder: SharedFolder
    let sendTimeout: Double
    let log: Log

    var name: String { "download" }

    func serve(_ request: String, on connection: TCPSocket) {
        let opened: (file: FileDescriptor, size: Int64)
        do {
            opened = try folder.openForServing(request)
        } catch {
            log.debug("download \"\(request)\": not offered (\(error.reason))")
            return
        }
        do {
            let sent = try connection.sendFile(opened.file, offset: 0, count: opened.size, idleTimeout: sendTimeout)
            if sent < opened.size {
                log.warning("\(request) shrank while it was sent: download aborted")
                connection.abortOnClose()
            } else {
                log.debug("download \"\(request)\": \(sent) bytes")
            }
        } catch {
            log.debug("download \"\(request)\" broken off: \(error)")
            connection.abortOnClose()
        }
    }
}

/// Writes `lines`, each ending in `\n`, in blocks of about 64 KiB. The whole
/// answer (bounded in size) must be taken within `timeout` seconds: a caller
/// reading a byte now and then cannot hold a worker.
private func send(lines: some Sequence<String>, on connection: TCPSocket, timeout: Double) {
    let deadline = MonotonicClock.now + timeout
    var block: [UInt8] = []
    block.reserveCapacity(64 * 1024)
    do {
        for line in lines {
            block.append(contentsOf: line.utf8)
            block.append(UInt8(ascii: "\n"))
            if block.count >= 64 * 1024 {
                try connection.send(block, idleTimeout: timeout, deadline: deadline)
                block.removeAll(keepingCapacity: true)
            }
        }
        if !block.isEmpty { try connection.send(block, idleTimeout: timeout, deadline: deadline) }
    } catch {
        connection.abortOnClose()  // the caller stopped reading or went away
    }
}
