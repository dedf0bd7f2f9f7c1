import PPlus2Core
import PPlus2POSIX

/// What a service answers one request line with. Services only decide; the
/// event loop sends the answer and ends the connection (`EventLoop`).
enum Answer {
    /// No answer: the callee closes without a byte (an invalid or unknown
    /// request, a name not offered).
    case nothing
    /// These bytes (lines, each ending in `\n`), then a clean close.
    case bytes([UInt8])
    /// `header` (empty in plain P+2), then `count` bytes of `file` from
    /// `offset`, then a clean close, if the file is still the version opened
    /// (`status`); a file that changed while it was sent ends in a reset.
    case file(header: [UInt8], file: FileDescriptor, status: FileStatus, offset: Int64, count: Int64, name: String)
    /// An offered file that cannot be served now (no descriptor left): a
    /// reset, never a clean close without a byte ("missing or empty").
    case refuse
}

/// What answers one request line on one port.
protocol Service: Sendable {
    /// A short name for logs: `peers`, `query`, `download`.
    var name: String { get }
    /// The answer to `request` from a caller at `caller` (host order). Runs
    /// on the event loop's thread: it must not block (no network, and file
    /// work bounded: an index look-up, an `open`).
    func answer(_ request: String, from caller: UInt32) -> Answer
    /// Whether its answers hold a file open (a descriptor more) while they are sent.
    var opensFiles: Bool { get }
}

extension Service {
    var opensFiles: Bool { false }
}

/// Lines, each ending in `\n`, as one answer.
func answerLines(_ lines: some Sequence<String>) -> Answer {
    var bytes: [UInt8] = []
    for line in lines {
        bytes.append(contentsOf: line.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }
    return .bytes(bytes)
}

/// Port p: the caller sends its identity (or any line); the answer is the list
/// of known peers, one `A.B.C.D:p` a line, never the caller's advertised
/// identity and never our own. The claim is checked against the caller's
/// address (`PeerTable.learnClaim`).
struct PeerListService: Service {
    let peers: PeerList
    let log: Log

    var name: String { "peers" }

    func answer(_ request: String, from caller: UInt32) -> Answer {
        let claimed = PeerIdentity(request)
        if let claimed { peers.learnClaim(claimed, from: IPv4Address(caller)) }
        let listed = peers.answer(excluding: claimed)
        log.debug("peer list to \(claimed?.description ?? "a caller") at \(IPv4Address(caller)): \(listed.count) peers")
        return answerLines(listed.lazy.map(\.description))
    }
}

/// Port p+1: the answer is the names of the offered files that contain the
/// query (Unicode case-insensitive), sorted, at most `maxNames`; in the
/// extension (`\u{1}find QUERY`) each with its size and SHA-256.
struct QueryService: Service {
    let folder: SharedFolder
    let hashes: FileHashes
    let maxNames: Int
    let log: Log

    var name: String { "query" }

    func answer(_ request: String, from caller: UInt32) -> Answer {
        let address = IPv4Address(caller)
        guard Extension.isExtended(request) else {
            let names = folder.search(request, limit: maxNames)
            log.debug("query \"\(request)\" from \(address): \(names.count) match\(names.count == 1 ? "" : "es")")
            return answerLines(names)
        }
        // `\u{1}find QUERY`: the header, then `SIZE SHA256 NAME` lines.
        guard case .find(let query)? = Extension.parse(request) else {
            log.debug("query from \(address): ignored an extended request it does not know")
            return .nothing
        }
        let files = folder.matchingFiles(query, limit: maxNames)
        log.debug("extended query \"\(query)\" from \(address): \(files.count) match\(files.count == 1 ? "" : "es")")
        let lines = files.lazy.map { file in
            Extension.matchLine(size: file.size, sha256: hashes.sha256(of: file.status), name: file.name)
        }
        return answerLines(CollectionOfOne(Extension.header).lazy.map { $0 } + lines)
    }
}
