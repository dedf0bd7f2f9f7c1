import PPlus2Core
import PPlus2Node
import PPlus2POSIX
import PPlus2TestSupport

/// A peer on 127.0.0.1 with kernel-chosen ports and a short gossip interval.
func startPeer(
    in folder: String,
    bootstraps: [PeerIdentity] = [],
    gossipInterval: Double = 0.05,
    timeout: Double = 2,
    configure: (inout Configuration) -> Void = { _ in }
) throws -> Peer {
    var configuration = Configuration()
    configuration.port = 0
    configuration.bind = .loopback
    configuration.directory = folder
    configuration.bootstraps = bootstraps
    configuration.gossipInterval = gossipInterval
    configuration.timeout = timeout
    configure(&configuration)
    return try Peer(configuration, log: .silent)
}

/// A peer folder with files, inside a temporary folder.
func makeFolder(_ temporary: TemporaryFolder, _ name: String, files: [String: [UInt8]] = [:]) throws -> String {
    let path = try temporary.folder(name)
    for (file, bytes) in files { try writeFile(path + "/" + file, bytes) }
    return path
}

extension Downloader.Outcome {
    /// The saved name and size, whatever the check (a pplus2 peer may or may
    /// not have hashed the file yet when it is listed).
    var savedFile: SavedFile? {
        guard case .saved(let name, let bytes, _) = self else { return nil }
        return SavedFile(name: name, bytes: bytes)
    }
}

struct SavedFile: Equatable {
    let name: String
    let bytes: Int64
}

/// Stops `peer` and waits for every thread of it to end (a peer only stopped
/// leaves finished threads unjoined, which ThreadSanitizer reports as leaks).
func shutDown(_ peer: Peer) {
    peer.stop()
    peer.join()
}

/// A console on a pipe for `peer`, and the lines it printed so far.
func pipeConsole(_ peer: any ConsolePeer) -> (Console, Locked<[String]>) {
    let output = Locked<[String]>([])
    let screen = ConsoleScreen(isTerminal: false, usesColour: false) { text, _ in
        output.withLock { $0 += text.split(separator: "\n").map(String.init) }
    }
    return (Console(peer: peer, screen: screen), output)
}
