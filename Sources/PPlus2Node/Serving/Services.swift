import PPlus2Core
import PPlus2POSIX

/// Port p: the caller sends its identity (or any line); the answer is the list
/// of known peers, one `A.B.C.D:p` a line, never the caller's advertised
/// identity and never our own. A valid identity is learned.
struct PeerListService: Service {
    let peers: PeerList
    let sendTimeout: Double
    let minimumRate: MinimumRate
    let log: Log

    var name: String { "peers" }

    func serve(_ request: String, on connection: Connection) {
        let caller = PeerIdentity(request)
        // The claim is checked against where the connection comes from (`PeerTable.learnClaim`).
        if let caller, let address = connection.socket.remoteAddress() {
            peers.learnClaim(caller, from: IPv4Address(address))
        }
        let listed = peers.answer(excluding: caller)
        log.debug(
            "peer list to \(caller?.description ?? "an anonymous caller at \(connection.caller)"): \(listed.count) peers"
        )
        send(lines: listed.lazy.map(\.description), on: connection, timeout: sendTimeout, minimumRate: minimumRate)
    }
}

/// Port p+1: the answer is the names of the offered files that contain the
/// query (Unicode case-insensitive), sorted, at most `maxNames`; in the
/// extension (`\u{1}find QUERY`) each with its size and SHA-256.
struct QueryService: Service {
    let folder: SharedFolder
    let hashes: FileHashes
    let maxNames: Int
    let sendTimeout: Double
    let minimumRate: MinimumRate
    let log: Log

    var name: String { "query" }

    func serve(_ request: String, on connection: Connection) {
        guard Extension.isExtended(request) else {
            let names = folder.search(request, limit: maxNames)
            log.debug("query \"\(request)\" from \(connection.caller): \(names.count) matches")
            return send(lines: names, on: connection, timeout: sendTimeout, minimumRate: minimumRate)
        }
        // `\u{1}find QUERY`: the header, then `SIZE SHA256 NAME` lines.
        guard case .find(let query)? = Extension.parse(request) else {
            log.debug("query: ignored an extended request it does not know")
            return
        }
        let files = folder.matchingFiles(query, limit: maxNames)
        log.debug("extended query \"\(query)\" from \(connection.caller): \(files.count) matches")
        let lines = files.lazy.map { file in
            Extension.matchLine(
                size: file.size,
                sha256: hashes.sha256(of: file.status),
                name: file.name
            )
        }
        let answer = CollectionOfOne(Extension.header).lazy.map { $0 } + lines
        send(lines: answer, on: connection, timeout: sendTimeout, minimumRate: minimumRate)
    }
}

/// Writes `lines`, each ending in `\n`, in blocks of about 64 KiB. The whole
/// answer (bounded in size) must be taken within `timeout` seconds, and at
/// `minimumRate` once its grace period is over, counted on what the caller
/// has acknowledged (a caller that never reads cannot hide behind our send
/// buffer): a caller reading a byte now and then cannot hold a worker.
func send(lines: some Sequence<String>, on connection: Connection, timeout: Double, minimumRate: MinimumRate) {
    var meter = SendMeter(rate: minimumRate)
    let deadline = meter.started + timeout
    var block: [UInt8] = []
    block.reserveCapacity(64 * 1024)
    do {
        for line in lines {
            block.append(contentsOf: line.utf8)
            block.append(UInt8(ascii: "\n"))
            if block.count >= 64 * 1024 {
                try connection.socket.send(block, idleTimeout: timeout, deadline: deadline, meter: &meter)
                block.removeAll(keepingCapacity: true)
            }
        }
        if !block.isEmpty { try connection.socket.send(block, idleTimeout: timeout, deadline: deadline, meter: &meter) }
    } catch {
        connection.cutOff()  // the caller stopped reading, read too slowly, or went away
    }
}

extension Connection {
    /// The caller's address, for log lines.
    var caller: String { socket.remoteAddress().map { IPv4Address($0).description } ?? "an address gone" }
}
