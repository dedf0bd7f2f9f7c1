import Foundation
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// Attacks on a running `pplus2` process. A separate process lets the test
/// count exactly its descriptors and threads, and see it survive signals.
@Suite("Attacks on a running peer process")
struct AttackTests {
    init() {
        ProcessControl.ignoreBrokenPipes()
    }

    @Test func aFloodOnEveryPortKeepsItAnsweringAndLeavesNothingOpen() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("f.txt"), [1])
        let (peer, port) = try PeerProcess.startPeer(["--dir", temporary.path, "--no-console"])
        defer { _ = peer.stop() }
        _ = wireRequest(port: port + 1, line: "f")  // let start-up work settle
        let descriptorsBefore = peer.openDescriptors
        let threadsBefore = peer.threadCount

        // 1000 connections on each port at once: half idle, half sending a request.
        // One address holds at most 64 idle ones: the oldest are reset as it
        // opens more, so some of these connects or sends fail, as they should.
        var flood: [TCPSocket] = []
        for index in 0..<3000 {
            let offset = UInt16(index % 3)
            guard let socket = try? TCPSocket.connect(address: 0x7F00_0001, port: port + offset, timeout: 5) else {
                continue
            }
            if index % 2 == 0 {
                try? socket.send(Array(["127.0.0.1:9\n", "f\n", "f.txt\n"][Int(offset)].utf8), idleTimeout: 2)
            }
            flood.append(socket)
        }
        // A normal query and download still get through within a few seconds.
        let started = MonotonicClock.now
        #expect(wireRequest(port: port + 1, line: "f", timeout: 5).lines == ["f.txt"])
        #expect(wireRequest(port: port + 2, line: "f.txt", timeout: 5).bytes == [1])
        #expect(MonotonicClock.now - started < 5)
        #expect(peer.threadCount <= threadsBefore, "threads grew from \(threadsBefore) to \(peer.threadCount)")
        #expect(peer.residentKiB < 64 * 1024)

        flood.removeAll()
        #expect(
            waitUntil(timeout: 30) { peer.openDescriptors <= descriptorsBefore },
            "\(peer.openDescriptors) descriptors open, \(descriptorsBefore) before the flood"
        )
        #expect(peer.process.isRunning)
    }

    @Test func runningOutOfDescriptorsNeitherSpinsNorStopsIt() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("f.txt"), [1])
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else {
            try Test.cancel("skipped: /usr/bin/prlimit (util-linux) is not installed")
        }
        // At most 64 descriptors: a flood of 200 connections exhausts them.
        let (peer, port) = try PeerProcess.startPeer(
            withPortOptions: ["--port", "0", "--bind", "127.0.0.1", "--dir", temporary.path, "--no-console"],
            launcher: ["/usr/bin/prlimit", "--nofile=64:64", "--"]
        )
        defer { _ = peer.stop() }
        let cpuBefore = peer.cpuSeconds
        var flood: [TCPSocket] = []
        for _ in 0..<200 {
            if let socket = try? TCPSocket.connect(address: 0x7F00_0001, port: port + 1, timeout: 2) {
                flood.append(socket)
            }
        }
        usleep(1_000_000)
        let cpuUsed = peer.cpuSeconds - cpuBefore
        #expect(cpuUsed < 0.5, "the peer used \(cpuUsed) s of CPU in 1 s of descriptor exhaustion")
        flood.removeAll()
        let answered = waitUntil(timeout: 10) { wireRequest(port: port + 1, line: "f", timeout: 2).lines == ["f.txt"] }
        #expect(answered)
        #expect(peer.process.isRunning)
    }

    @Test func callersThatHangUpMidDownloadNeverKillIt() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("big.bin"), randomBytes(16 << 20, seed: 4))
        let (peer, port) = try PeerProcess.startPeer(["--dir", temporary.path, "--no-console"])
        defer { _ = peer.stop() }
        for _ in 0..<20 {
            let socket = try TCPSocket.connect(address: 0x7F00_0001, port: port + 2, timeout: 2)
            try socket.send(Array("big.bin\n".utf8), idleTimeout: 2)
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = try? socket.receive(into: &buffer, timeout: 2)
            socket.abortOnClose()  // hang up with a reset while the peer is still sending
        }
        usleep(200_000)
        #expect(peer.process.isRunning)
        #expect(wireRequest(port: port + 1, line: "big").lines == ["big.bin"])
    }

    @Test func stoppingAndContinuingItMidTransferLosesNoByte() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(24 << 20, seed: 12)
        try writeFile(temporary.file("big.bin"), content)
        let (peer, port) = try PeerProcess.startPeer(["--dir", temporary.path, "--no-console"])
        defer { _ = peer.stop() }

        // SIGSTOP and SIGCONT interrupt its system calls (EINTR) while it serves.
        let pid = peer.pid
        let interrupter = ThreadHandle()
        try interrupter.start(name: "interrupter") {
            for _ in 0..<15 {
                kill(pid, SIGSTOP)
                usleep(20_000)
                kill(pid, SIGCONT)
                usleep(20_000)
            }
        }
        let answer = wireRequest(port: port + 2, line: "big.bin", timeout: 20)
        interrupter.join()
        #expect(answer.closedCleanly)
        #expect(answer.bytes == content)
        #expect(peer.process.isRunning)
    }
}

extension PeerProcess {
    var threadCount: Int { statusField("Threads") ?? 0 }

    /// User and system CPU seconds the process has used.
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
    var residentKiB: Int { statusField("VmRSS") ?? 0 }

    private func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.dropFirst(name.count + 1).split(separator: " ").first ?? "")
        }
        return nil
    }
}
