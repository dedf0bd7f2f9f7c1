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

/// A fake peer whose download port sends `bytes` and then ends the
/// connection with a reset (or a clean close), whatever is asked.
final class FakeDownloadPeer: @unchecked Sendable {
    let identity: PeerIdentity
    private let listener: TCPSocket
    private let thread: OSThread

    init(sends bytes: [UInt8], thenReset: Bool) throws {
        // Only the download port p+2 is served; p and p+1 stay closed.
        var chosen: (UInt16, TCPSocket)?
        for _ in 0..<100 {
            let socket = try TCPSocket.listen(address: 0x7F00_0001, port: 0)
            let port = try socket.localAddress().port
            guard port >= 3 else { continue }
            chosen = (port - 2, socket)
            break
        }
        guard let (base, listener) = chosen else { throw IOFailure.timedOut("binding") }
        self.identity = PeerIdentity(address: .loopback, port: base)!
        self.listener = listener
        thread = try OSThread.start(name: "fake-peer") {
            guard listener.descriptor.waitUntilReadable(timeout: 10), let connection = try? listener.accept()
            else { return }
            var request = [UInt8](repeating: 0, count: 4096)
            _ = try? connection.receive(into: &request, timeout: 5)
            try? connection.send(bytes, idleTimeout: 5)
            if thenReset { connection.abortOnClose() }
        }
    }

    func finish() { thread.join() }
}
