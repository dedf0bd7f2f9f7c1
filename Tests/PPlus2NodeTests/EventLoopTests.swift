import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// The event loop under slow readers spread over many addresses: they hold
/// descriptors and their own rate, never the honest callers' turn.
@Suite struct EventLoopTests {
    @Test func ninetySixSlowReadersFromTwentyFourAddressesLeaveAnHonestDownloadItsSpeed() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(16 << 20, seed: 44)
        let a = try startPeer(in: makeFolder(temporary, "a", files: ["big.bin": content]))
        defer { shutDown(a) }
        var readers: [TCPSocket] = []
        for address in 0..<24 {
            for _ in 0..<4 {
                let socket = try TCPSocket.connect(
                    address: 0x7F00_0001,
                    port: a.port + 2,
                    timeout: 2,
                    from: 0x7F00_0A00 + UInt32(address),  // 127.0.10.x
                    receiveBuffer: 4096,
                    maxSegment: 536
                )
                try socket.send(Array("big.bin\n".utf8), idleTimeout: 2)
                readers.append(socket)
            }
        }
        usleep(300_000)  // every reader's transfer has started

        let started = MonotonicClock.now
        let honest = try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 2, timeout: 2, from: 0x7F00_0002)
        try honest.send(Array("big.bin\n".utf8), idleTimeout: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let first = try honest.receive(into: &buffer, timeout: 5)
        let firstByte = MonotonicClock.now - started
        let (rest, endedCleanly) = readToEnd(honest)
        let seconds = MonotonicClock.now - started
        #expect(first > 0 && firstByte < 1, "first byte after \(firstByte) s")
        #expect(endedCleanly && first + rest == content.count)
        // Full speed on loopback: 16 MiB in well under a second (a thread-per-transfer
        // peer with 16 workers held did not start it for seconds).
        #expect(seconds < 1.5, "16 MiB took \(seconds) s")
        #expect(readers.count == 96)
    }
}

/// A search asks every planned peer at once: peers that drip their answer a
/// byte a second, listed first, cost a descriptor each, not the honest
/// peers' turn.
@Suite struct SearchFanOutTests {
    @Test func sixteenDrippingPeersListedFirstDoNotHideThreeHonestOnes() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        var drippers: [ScriptedPeer] = []
        for _ in 0..<16 {
            drippers.append(try ScriptedPeer(query: .init(Array("drip-file.txt\n".utf8), drip: 1)))
        }
        defer { for dripper in drippers { dripper.stop() } }
        var honest: [Peer] = []
        for index in 0..<3 {
            honest.append(try startPeer(in: makeFolder(temporary, "h\(index)", files: ["file-\(index).txt": [1]])))
        }
        defer { for peer in honest { shutDown(peer) } }
        let a = try startPeer(in: makeFolder(temporary, "a"), timeout: 1)
        defer { shutDown(a) }
        let listed = drippers.map { PeerIdentity(address: .loopback, port: $0.port)! } + honest.map(\.identity)
        let started = MonotonicClock.now
        let result = a.search("file", only: listed)
        let took = MonotonicClock.now - started
        let names = Set(result.matches.map(\.name))
        #expect(names.isSuperset(of: ["file-0.txt", "file-1.txt", "file-2.txt"]), "\(names)")
        #expect(took < 2 * 1 + 0.5, "the search took \(took) s")
        #expect(result.failures.count == 16)
    }
}
