import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// Serving shows on the console: the first file served after a quiet spell
/// a second later, then one line at most every 10 s for everything meanwhile.
@Suite struct ServedTallyTests {
    static let a: UInt32 = 0x7F00_0002
    static let b: UInt32 = 0x7F00_0003

    @Test func aQuietPeerSaysAtOnceABusyOneSumsUp() {
        var tally = ServedTally()
        #expect(tally.dueAt == nil && tally.line(now: 0) == nil, "nothing served, nothing said")
        tally.add(name: "a.bin", bytes: 512, caller: Self.a, now: 100)
        tally.add(name: "a.bin", bytes: 512, caller: Self.a, now: 100.5)  // the rest of one download, at once
        #expect(tally.line(now: 100.9) == nil)
        #expect(tally.line(now: 101) == "served a.bin: 1.0 KiB to 127.0.0.2 (2 transfers)")
        for (second, name) in [(101.0, "b.bin"), (102, "c.bin"), (103, "b.bin"), (104, "d.bin"), (105, "e.bin")] {
            tally.add(name: name, bytes: 1 << 20, caller: second == 101 ? Self.a : Self.b, now: second)
        }
        #expect(tally.dueAt == 111)
        #expect(tally.line(now: 110.9) == nil)
        #expect(tally.line(now: 111) == "served b.bin, c.bin, d.bin and 1 more: 5.0 MiB to 2 peers (5 transfers)")
        #expect(tally.dueAt == nil)
    }

    @Test func aFileServedShowsInTheLog() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let lines = Locked<[String]>([])
        var configuration = Configuration()
        configuration.port = 0
        configuration.bind = .loopback
        configuration.directory = try makeFolder(temporary, "shared", files: ["data.bin": randomBytes(5000, seed: 3)])
        let peer = try Peer(configuration, log: Log(sink: { line in lines.withLock { $0.append(line) } }))
        defer { shutDown(peer) }
        #expect(wireRequest(port: peer.port + 2, line: "data.bin").bytes.count == 5000)
        #expect(waitUntil(timeout: 5) { lines.withLock { $0 }.contains("served data.bin: 4.9 KiB to 127.0.0.1") })
    }
}
