import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

@Suite("The three services on the wire")
struct ServiceTests {
    @Test func peerListExcludesTheCallerAndItselfAndLearnsTheCaller() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let a = try startPeer(in: makeFolder(temporary, "a"), gossipInterval: 60)
        defer { shutDown(a) }
        let x = PeerIdentity("127.0.0.1:40000")!
        let y = PeerIdentity("10.1.2.3:5000")!

        #expect(wireRequest(port: a.port, line: "").bytes.isEmpty)
        let first = wireRequest(port: a.port, line: x.description)
        #expect(first.closedCleanly && first.bytes.isEmpty)  // the caller itself is never listed
        #expect(a.peers.identities == [x])
        #expect(wireRequest(port: a.port, line: "\(y)\r").lines == [x.description])
        #expect(wireRequest(port: a.port, line: "not an identity").lines == [x.description, y.description])
        // Its own identity is neither learned nor listed.
        #expect(wireRequest(port: a.port, line: a.identity.description).lines == [x.description, y.description])
        #expect(!a.peers.contains(a.identity))
    }

    @Test func queryAnswersOneNameALineAndHonoursTheLineRules() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folder = try makeFolder(
            temporary,
            "a",
            files: ["Report.pdf": [1], "notes.txt": [2], ".hidden-report": [3]]
        )
        try FileManager.default.createDirectory(atPath: folder + "/report-folder", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: folder + "/report-link", withDestinationPath: "Report.pdf")
        #expect(mkfifo(folder + "/report-fifo", 0o644) == 0)
        let a = try startPeer(in: folder, gossipInterval: 60)
        defer { shutDown(a) }
        let query = a.port + 1

        #expect(wireRequest(port: query, line: "REPORT").lines == ["Report.pdf"])
        #expect(wireRequest(port: query, line: "report\r").lines == ["Report.pdf"])
        #expect(wireRequest(port: query, Array("port".utf8), closeSending: true).lines == ["Report.pdf"])
        #expect(wireRequest(port: query, line: "").lines == ["Report.pdf", "notes.txt"])
        #expect(wireRequest(port: query, line: "\u{1}extension").bytes.isEmpty)

        // Lines the contract refuses get no answer at all: the callee closes.
        let tooLong = wireRequest(port: query, line: String(repeating: "a", count: 4097))
        #expect(tooLong.bytes.isEmpty && tooLong.failure == nil)
        #expect(wireRequest(port: query, [0x61, 0x00, 0x0A]).bytes.isEmpty)
        #expect(wireRequest(port: query, [0xFF, 0x0A]).bytes.isEmpty)
        #expect(wireRequest(port: query, line: String(repeating: "e", count: 4096)).closedCleanly)
    }

    @Test func downloadServesOnlyOfferedFiles() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let secret = try makeFolder(temporary, "outside", files: ["secret.txt": Array("secret".utf8)])
        let folder = try makeFolder(temporary, "a", files: ["ok.txt": Array("ok".utf8), ".hidden": [1]])
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: false)
        try writeFile(folder + "/sub/inner.txt", [1])
        try FileManager.default.createSymbolicLink(
            atPath: folder + "/link.txt",
            withDestinationPath: secret + "/secret.txt"
        )
        try FileManager.default.createSymbolicLink(atPath: folder + "/inside-link", withDestinationPath: "ok.txt")
        #expect(mkfifo(folder + "/fifo", 0o644) == 0)
        let a = try startPeer(in: folder, gossipInterval: 60)
        defer { shutDown(a) }
        let download = a.port + 2

        #expect(wireRequest(port: download, line: "ok.txt").bytes == Array("ok".utf8))
        for name in [
            "../outside/secret.txt", secret + "/secret.txt", "/etc/passwd", "sub", "sub/inner.txt", ".hidden",
            "link.txt", "inside-link", "fifo", "missing", "", ".", "..",
        ] {
            let answer = wireRequest(port: download, line: name)
            #expect(answer.bytes.isEmpty, "served \(name)")
            #expect(answer.closedCleanly, "\(name): \(String(describing: answer.failure))")
        }
    }

    @Test func closesACallerThatDoesNotSendItsLineInTime() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let a = try startPeer(in: makeFolder(temporary, "a", files: ["f": [1]]), gossipInterval: 60) {
            $0.server.requestLineTimeout = 0.5
        }
        defer { shutDown(a) }

        // Silent: sends nothing.
        var started = MonotonicClock.now
        let silent = wireRequest(port: a.port + 1, [], timeout: 5)
        #expect(silent.bytes.isEmpty)
        #expect(MonotonicClock.now - started < 2)

        // Slow drip: a byte every 0.2 s; the limit is for the whole line, not per byte.
        started = MonotonicClock.now
        let socket = try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 1, timeout: 2)
        var closedAfter: Double?
        for _ in 0..<20 {
            if (try? socket.send([0x66], idleTimeout: 1)) == nil { break }
            var buffer = [UInt8](repeating: 0, count: 16)
            if let count = try? socket.receive(into: &buffer, timeout: 0.2), count == 0 {
                closedAfter = MonotonicClock.now - started
                break
            }
        }
        let closed = try #require(closedAfter, "a dripping caller was never closed")
        #expect(closed < 2)
    }

    @Test func aFloodOfIdleConnectionsDoesNotKeepOutARealQuery() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let a = try startPeer(in: makeFolder(temporary, "a", files: ["wanted.txt": [1]]), gossipInterval: 60) {
            $0.server.maxPendingConnections = 64
        }
        defer { shutDown(a) }
        var idle: [TCPSocket] = []
        for _ in 0..<300 {
            idle.append(try TCPSocket.connect(address: 0x7F00_0001, port: a.port + 1, timeout: 2))
        }
        let started = MonotonicClock.now
        #expect(wireRequest(port: a.port + 1, line: "wanted", timeout: 3).lines == ["wanted.txt"])
        #expect(MonotonicClock.now - started < 2)
        // (That no descriptor stays open afterwards is checked on a separate
        // process in EndToEndTests, where other tests' descriptors do not count.)
        idle.removeAll()
    }
}

@Suite("Starting up")
struct StartUpTests {
    @Test func aBusyQueryOrDownloadPortIsNamed() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let blocker = try SilentPeer()  // holds p, p+1, p+2
        for (offset, service) in [(1, "query"), (2, "download")] {
            let base = blocker.port - UInt16(offset)
            do {
                _ = try startPeer(in: temporary.path) { $0.port = base }
                Issue.record("started on a busy triple")
            } catch let error as StartError {
                // An unrelated socket may hold a lower port of the triple first;
                // then that one is named, which is right too.
                if case .portInUse(let port, let named) = error, port == blocker.port {
                    #expect(named == service)
                    #expect(
                        error.description.hasPrefix(
                            "port \(blocker.port) (\(service)) is already in use (another peer? --port 0"
                        )
                    )
                }
            }
        }
    }

    @Test func stopClosesTheListeners() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let peer = try startPeer(in: temporary.path)
        let port = peer.port
        #expect(wireRequest(port: port, line: "").closedCleanly)
        shutDown(peer)
        for offset in 0..<3 {
            #expect(throws: IOFailure.self) {
                try TCPSocket.connect(address: 0x7F00_0001, port: port + UInt16(offset), timeout: 1)
            }
        }
    }
}
