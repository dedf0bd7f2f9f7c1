import PPlus2Core
import PPlus2Node
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// The contract's floor for a download (less than 1 KiB in 30 s: stalled),
/// here with a shorter window: a source that drips a byte now and then, well
/// inside the idle timeout, is ended as stalled, and what it sent is kept to
/// be resumed.
@Suite struct StallTests {
    static let content = randomBytes(4096, seed: 5)
    static let digest = SHA256.hash(content)
    static let header = Array((Extension.getHeader(size: 4096, sha256: digest) + "\n").utf8)

    static func download(from script: ScriptedPeer.Script, in folder: String) throws -> (DownloadError?, Double) {
        let source = try ScriptedPeer(download: script)
        defer { source.stop() }
        let peer = try startPeer(in: folder, gossipInterval: 60) {
            $0.stallRule = StallRule(bytes: 64, seconds: 1)
            $0.gossipEnabled = false
        }
        defer { shutDown(peer) }
        let identity = PeerIdentity(address: .loopback, port: source.port)!
        let match = Search.Match(name: "big.bin", peer: identity, size: 4096, sha256: digest)
        let started = MonotonicClock.now
        do {
            _ = try peer.download(match)
            return (nil, MonotonicClock.now - started)
        } catch {
            return (error, MonotonicClock.now - started)
        }
    }

    @Test func aDrippingBodyIsEndedAsStalledAndWhatArrivedIsKept() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folder = try makeFolder(temporary, "mine")
        // The header and 1,000 bytes at once, then a byte every 0.25 s: never idle for the 2 s timeout.
        let script = ScriptedPeer.Script(Self.header + Self.content, drip: 0.25, dripFrom: Self.header.count + 1000)
        let (error, took) = try Self.download(from: script, in: folder)
        guard case .stalled(_, let bytes, _)? = error else {
            Issue.record("expected a stall, got \(String(describing: error))")
            return
        }
        #expect(bytes >= 1000 && took < 4)
        let kept = readFile(folder + "/" + HiddenFile.keptPartial(Self.digest).name) ?? []
        #expect(kept.count >= 1000 && kept[...] == Self.content[..<kept.count])
    }

    @Test func aDrippingHeaderIsEndedAsStalledToo() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (error, took) = try Self.download(
            from: ScriptedPeer.Script(Self.header, drip: 0.25),
            in: try makeFolder(temporary, "mine")
        )
        guard case .stalled? = error else {
            Issue.record("expected a stall, got \(String(describing: error))")
            return
        }
        #expect(took < 3)
    }
}
