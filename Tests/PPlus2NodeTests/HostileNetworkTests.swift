import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// Each test attacks a live peer the way a hostile or broken peer could, and
/// fails without the defence it names.
@Suite("Hostile peers")
struct HostileNetworkTests {
    // MARK: Lists

    @Test func aHugeGarbagePeerListLeavesTheListBoundedAndClean() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let a = try startPeer(in: makeFolder(temporary, "a"), gossipInterval: 60)
        defer { shutDown(a) }
        var lines: [String] = []
        let junk = [
            a.identity.description, "127.0.0.1:\(a.port)", "0.0.0.0:5000", "255.255.255.255:5000", "224.0.0.251:5353",
            "10.0.0.1:0", "10.0.0.1:65534", "10.0.0.1:99999", "peer.example:5000", "[::1]:5000", "fe80::1:5000",
            " 10.0.0.1:5000", "10.0.0.01:5000", "\u{1}\u{7F}\u{FFFD}", "",
        ]
        for index in 0..<100_000 {
            lines.append(
                index % 3 == 0
                    ? junk[index % junk.count] : "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255):7000"
            )
            if index % 10 == 0 { lines.append("10.0.0.1:7000") }  // duplicates
        }
        var answer = Array(lines.joined(separator: "\n").utf8)
        answer += [0xFF, 0x00, 0xC3, 0x0A]  // binary garbage
        let hostile = try ScriptedPeer(peers: .init(answer))
        defer { hostile.stop() }

        a.gossip(with: PeerIdentity(address: .loopback, port: hostile.port)!)
        let known = a.peers.identities
        // One source fills at most its share of the table, however long its list.
        let hostileSource = PeerTable.Source.peer(PeerIdentity(address: .loopback, port: hostile.port)!)
        #expect(known.count == PeerTable.Policy(gossipInterval: 1).quota(of: hostileSource))
        #expect(Set(known).count == known.count)
        #expect(!known.contains(a.identity))
        #expect(known.allSatisfy { $0.address.isUnicastDestination && (1...65533).contains($0.port) })
        #expect(known.allSatisfy { PeerIdentity($0.description) == $0 })
    }

    @Test func aDeadBootstrapIsRetriedWithBackOffNotHammered() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let dead = try ScriptedPeer(peers: .init([], then: .reset))
        defer { dead.stop() }
        let a = try startPeer(
            in: makeFolder(temporary, "a"),
            bootstraps: [PeerIdentity(address: .loopback, port: dead.port)!],
            gossipInterval: 0.05
        )
        usleep(2_000_000)  // 40 intervals
        shutDown(a)
        // Back-off doubles from one interval: 0, 0.05, 0.15, 0.35, 0.75, 1.55 s.
        #expect(dead.requests[0].count <= 8, "\(dead.requests[0].count) contacts in 40 intervals")
        #expect(dead.requests[0].count >= 3)
        #expect(a.peers.contains(PeerIdentity(address: .loopback, port: dead.port)!))
    }

    // MARK: Names

    @Test func namesThatCouldEscapeAreNeverShownNorWritten() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        var answer = Array("good.txt\n../escape\n/etc/passwd\n.hidden\nsub/file\ntab\there\n".utf8)
        answer += Array((String(repeating: "n", count: 300) + "\n").utf8)
        answer += [0x62, 0xFF, 0x0A, 0x00, 0x0A]
        let hostile = try ScriptedPeer(query: .init(answer), download: .init(Array("data".utf8)))
        defer { hostile.stop() }
        let folder = try makeFolder(temporary, "a")
        let a = try startPeer(
            in: folder,
            bootstraps: [PeerIdentity(address: .loopback, port: hostile.port)!],
            gossipInterval: 60
        )
        defer { shutDown(a) }
        let result = a.search("")
        #expect(result.matches.map(\.name) == ["good.txt"])
        #expect(result.invalidNames == 8)
        #expect(TemporaryFolder.names(in: folder).isEmpty)
    }

    // MARK: Sizes

    @Test func queryAnswersAreCappedAndTheCutIsCounted() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let names = (0..<(QueryAnswer.maxLines + 500)).map { "file-\($0).txt\n" }.joined()
        let hostile = try ScriptedPeer(query: .init(Array(names.utf8)))
        defer { hostile.stop() }
        let a = try startPeer(
            in: makeFolder(temporary, "a"),
            bootstraps: [PeerIdentity(address: .loopback, port: hostile.port)!],
            gossipInterval: 60
        )
        defer { shutDown(a) }
        let result = a.search("file")
        #expect(result.matches.count == QueryAnswer.maxLines)
        #expect(result.cutMatches == 500)
        #expect(!result.cutIsLowerBound)
    }

    // MARK: Time

    @Test func aTarPitPeerCostsABoundedTime() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        // Drips a byte every 0.2 s, never idle long enough for the idle timeout.
        let tarPit = try ScriptedPeer(query: .init(Array(String(repeating: "x", count: 1000).utf8), drip: 0.2))
        defer { tarPit.stop() }
        let a = try startPeer(
            in: makeFolder(temporary, "a"),
            bootstraps: [PeerIdentity(address: .loopback, port: tarPit.port)!],
            gossipInterval: 60,
            timeout: 0.5
        )
        defer { shutDown(a) }
        let started = MonotonicClock.now
        let result = a.search("x")
        #expect(result.failures.count == 1)
        #expect(MonotonicClock.now - started < 3, "a whole answer is bounded by 4 x --timeout")
    }

    @Test func aCallerThatStopsReadingADownloadIsDropped() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let size = 64 << 20
        let a = try startPeer(in: makeFolder(temporary, "a", files: ["big.bin": randomBytes(size, seed: 8)])) {
            $0.sendIdleTimeout = 0.5
        }
        defer { shutDown(a) }
        let socket = try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 2, timeout: 2)
        try socket.send(Array("big.bin\n".utf8), idleTimeout: 2)
        usleep(1_500_000)  // stop reading for three idle timeouts
        let (received, endedCleanly) = readToEnd(socket)
        #expect(!endedCleanly, "a dropped transfer must end in a reset")
        #expect(received < size)
    }

    // MARK: Faults

    @Test func aFileThatShrinksWhileServedEndsInAReset() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let size = 64 << 20
        let folder = try makeFolder(temporary, "a", files: ["shrinks.bin": randomBytes(size, seed: 6)])
        let a = try startPeer(in: folder)
        defer { shutDown(a) }
        let socket = try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 2, timeout: 2)
        try socket.send(Array("shrinks.bin\n".utf8), idleTimeout: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let first = try socket.receive(into: &buffer, timeout: 5)
        #expect(truncate(folder + "/shrinks.bin", 1 << 20) == 0)
        let (rest, endedCleanly) = readToEnd(socket)
        #expect(!endedCleanly)
        #expect(first + rest < size)
    }

    @Test func theSharedFolderDeletedWhileRunning() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let b = try startPeer(in: makeFolder(temporary, "b", files: ["f.txt": [1, 2, 3]]), gossipInterval: 60)
        defer { shutDown(b) }
        let folder = try makeFolder(temporary, "a", files: ["mine.txt": [1]])
        let a = try startPeer(in: folder, bootstraps: [b.identity], gossipInterval: 60)
        defer { shutDown(a) }
        // The peer may be saving its peer list inside right now: retry the removal.
        #expect(waitUntil(timeout: 5) { (try? FileManager.default.removeItem(atPath: folder)) != nil })

        let match = try #require(a.search("f").matches.first)
        #expect {
            try a.download(match)
        } throws: { error in
            guard let error = error as? DownloadError, case .local = error else { return false }
            let reason = error.description
            return reason.contains("the folder was removed") && !reason.contains("\n")
        }
        // It keeps serving: its query port answers (nothing to offer now).
        #expect(wireRequest(port: a.port + 1, line: "").closedCleanly)
        // A folder made again at its path is offered within 2 s, and downloads land in it.
        _ = try makeFolder(temporary, "a", files: ["new.txt": [7]])
        #expect(waitUntil(timeout: 2) { wireRequest(port: a.port + 1, line: "new").lines == ["new.txt"] })
        #expect(try a.download(match).savedFile == SavedFile(name: "f.txt", bytes: 3))
        #expect(readFile(folder + "/f.txt") == [1, 2, 3])
        #expect(a.search("f").matches.count == 1)
    }

    /// A 1 MiB disk that a 3 MiB download fills, and a read-only one.
    @Test(arguments: [("size=1m", "no space left on device"), ("ro,size=1m", "read-only file system")])
    func aFullOrReadOnlyDiskLeavesNoFile(mountOptions: String, reason: String) throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let mountPoint = try temporary.folder("small-disk")
        try mountTmpfs(at: mountPoint, options: mountOptions)
        defer { _ = try? runCommand("/bin/umount", [mountPoint]) }

        let b = try startPeer(in: makeFolder(temporary, "b", files: ["big.bin": randomBytes(3 << 20, seed: 2)]))
        defer { shutDown(b) }
        let a = try startPeer(in: mountPoint, bootstraps: [b.identity], gossipInterval: 60)
        defer { shutDown(a) }
        #expect {
            try a.download(Search.Match(name: "big.bin", peer: b.identity))
        } throws: { error in
            guard let error = error as? DownloadError, case .local = error else { return false }
            return error.description.contains(reason)
        }
        #expect(TemporaryFolder.names(in: mountPoint).isEmpty)
        #expect(wireRequest(port: a.port + 1, line: "").closedCleanly)  // still serving
    }
}

/// Reads until the other end closes: the byte count, and whether it closed
/// cleanly (end of stream) rather than with a reset or a timeout.
func readToEnd(_ socket: TCPSocket) -> (bytes: Int, endedCleanly: Bool) {
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var total = 0
    while let count = try? socket.receive(into: &buffer, timeout: 5) {
        if count == 0 { return (total, true) }
        total += count
    }
    return (total, false)
}

/// Mounts a small tmpfs for a test, or skips the test, saying why.
func mountTmpfs(at path: String, options: String) throws {
    do {
        try runCommand("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path])
    } catch {
        try Test.cancel("skipped: cannot mount a tmpfs at \(path) (needs root and permission to mount)")
    }
}

/// A size announced by the extension is checked against the folder's free
/// space before the first byte is asked for.
@Suite struct FreeSpaceTests {
    @Test func aFileLargerThanTheFreeSpaceIsRefusedBeforeItsFirstByte() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let mountPoint = try temporary.folder("small-disk")
        try mountTmpfs(at: mountPoint, options: "size=1m")
        defer { _ = try? runCommand("/bin/umount", [mountPoint]) }
        let b = try startPeer(in: makeFolder(temporary, "b", files: ["big.bin": randomBytes(3 << 20, seed: 2)]))
        defer { shutDown(b) }
        let a = try startPeer(in: mountPoint, bootstraps: [b.identity], gossipInterval: 60)
        defer { shutDown(a) }
        let match = try #require(a.search("big").matches.first)
        #expect(match.size == 3 << 20)
        #expect {
            try a.download(match)
        } throws: { error in
            guard case .noSpace(let needed, let free) = error as? DownloadError else { return false }
            return needed == 3 << 20 && free <= 1 << 20 && "\(error)".contains("free")
        }
        #expect(TemporaryFolder.names(in: mountPoint).isEmpty)
    }
}

/// A search has one deadline for the whole fan-out, whatever the number of
/// peers that drip their answers: more tar pits than threads cost no more.
@Suite struct SearchDeadlineTests {
    @Test func manyTarPitsCostOneDeadline() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let honest = try startPeer(in: makeFolder(temporary, "b", files: ["found.txt": [1]]), gossipInterval: 60)
        defer { shutDown(honest) }
        var tarPits: [ScriptedPeer] = []
        for _ in 0..<20 {
            tarPits.append(try ScriptedPeer(query: .init(Array(String(repeating: "x", count: 200).utf8), drip: 0.2)))
        }
        defer { for tarPit in tarPits { tarPit.stop() } }
        let a = try startPeer(
            in: makeFolder(temporary, "a"),
            bootstraps: [honest.identity] + tarPits.map { PeerIdentity(address: .loopback, port: $0.port)! },
            gossipInterval: 60,
            timeout: 0.5
        ) { $0.searchConcurrency = 4 }  // fewer threads than tar pits: rounds would add up
        defer { shutDown(a) }
        let started = MonotonicClock.now
        let result = a.search("")
        let elapsed = MonotonicClock.now - started
        #expect(elapsed < 1.6, "one deadline of 2 x --timeout, not \(elapsed) s")
        #expect(result.matches.map(\.name) == ["found.txt"])
        #expect(result.failures.count == 20)
    }
}

/// One address cannot hold every serving slot: slow readers from 127.0.0.1 on
/// every download slot, with a small receive buffer as on a real LAN, while
/// another address (127.0.0.2) downloads.
@Suite struct FairSlotsTests {
    @Test func slowReadersFromOneAddressLeaveRoomForAnother() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(32 << 20, seed: 41)
        let a = try startPeer(in: makeFolder(temporary, "a", files: ["big.bin": content]))
        defer { shutDown(a) }
        var attackers: [TCPSocket] = []
        for _ in 0..<24 {  // more than the 16 download workers
            let socket = try TCPSocket.connect(
                address: 0x7F00_0001,
                port: a.port + 2,
                timeout: 2,
                receiveBuffer: 4096
            )
            try socket.send(Array("big.bin\n".utf8), idleTimeout: 2)
            attackers.append(socket)
        }
        usleep(300_000)  // every attacker's request is in

        let started = MonotonicClock.now
        let honest = try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 2, timeout: 2, from: 0x7F00_0002)
        try honest.send(Array("big.bin\n".utf8), idleTimeout: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let first = try honest.receive(into: &buffer, timeout: 5)
        #expect(first > 0)
        #expect(MonotonicClock.now - started < 2, "an honest download from another address starts at once")
        let (rest, endedCleanly) = readToEnd(honest)
        #expect(endedCleanly && first + rest == content.count)

        // The attackers that got a slot read nothing: below the minimum rate, they
        // are reset once its 5 s of grace are over (long before the 30 s idle timeout).
        usleep(7_000_000)
        let reset = attackers.filter { attacker in
            var scratch = [UInt8](repeating: 0, count: 1 << 16)
            for _ in 0..<10_000 {
                do {
                    guard let count = try attacker.receiveNow(into: &scratch), count > 0 else { return false }
                } catch {
                    return true
                }
            }
            return false
        }
        #expect(reset.count >= 4, "\(reset.count) of the slow readers were reset")
    }
}

/// The query port under slow readers from several addresses, each holding
/// its share of the workers with a 2.6 MB answer it never reads (a small
/// window and small segments, as on a LAN: the answer cannot hide in the
/// kernel's buffers, as it does on loopback). Below the minimum rate, they are
/// dropped once its grace is over (1 s here): an honest query waits that long,
/// not the 30 s idle timeout.
@Suite struct SlowQueryReaderTests {
    @Test func slowReadersOnEveryQuerySlotAreDroppedAfterTheGrace() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folder = try temporary.folder("a")
        let padding = String(repeating: "x", count: 240)
        for index in 0..<10_000 { try writeFile(folder + "/name-\(index)-\(padding)", []) }
        let a = try startPeer(in: folder) { $0.minimumSendRate.graceSeconds = 1 }
        defer { shutDown(a) }

        var attackers: [TCPSocket] = []
        for address: UInt32 in [0x7F00_0003, 0x7F00_0004] {
            for _ in 0..<2 {  // each address's share: two of the four query workers
                let socket = try TCPSocket.connect(
                    address: 0x7F00_0001,
                    port: a.port + 1,
                    timeout: 2,
                    from: address,
                    receiveBuffer: 4096,
                    maxSegment: 536
                )
                try socket.send(Array("name\n".utf8), idleTimeout: 2)
                attackers.append(socket)
            }
        }
        usleep(300_000)  // every worker is taken

        let started = MonotonicClock.now
        let honest = try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 1, timeout: 2, from: 0x7F00_0002)
        try honest.send(Array("name-9999-\n".utf8), idleTimeout: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let first = try honest.receive(into: &buffer, timeout: 15)
        let waited = MonotonicClock.now - started
        #expect(first > 0)
        #expect(waited < 2, "an honest query waited \(waited) s for a worker")
        let (rest, endedCleanly) = readToEnd(honest)
        #expect(endedCleanly && first + rest == "name-9999-\(padding)\n".utf8.count)
        #expect(attackers.count == 4)
    }
}

extension TCPSocket {
    /// `receiveNow` into an array: nil if nothing is there yet; throws on a reset.
    func receiveNow(into buffer: inout [UInt8]) throws -> Int? {
        try buffer.withUnsafeMutableBytes { try receiveNow(into: $0) }
    }
}
