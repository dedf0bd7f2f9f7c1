import Foundation
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@Suite("The pplus2 executable")
struct EndToEndTests {
    init() {
        ProcessControl.ignoreBrokenPipes()
    }

    @Test func aConsoleOnAPipeSearchesAndDownloadsFromAnotherProcess() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(2 * 1024 * 1024 + 3, seed: 9)
        let serving = try temporary.folder("serving")
        try writeFile(serving + "/holiday photos.tar", content)
        try writeFile(serving + "/notes.txt", Array("notes".utf8))
        let downloading = try temporary.folder("downloading")

        let (server, serverPort) = try PeerProcess.startPeer([
            "--dir", serving, "--no-console", "--gossip-interval", "0.2",
        ])
        let (client, _) = try PeerProcess.startPeer([
            "--dir", downloading, "--bootstrap", "127.0.0.1:\(serverPort)", "--gossip-interval", "0.2",
            "--timeout", "2",
        ])

        client.send("HOLIDAY")
        let listing = try #require(client.waitForStdout(containing: "1) ", timeout: 10), "\(client.stderrText)")
        #expect(listing == "  1) holiday photos.tar  [127.0.0.1:\(serverPort)]  \(content.count)")
        client.send("1")
        let saved = try #require(client.waitForStdout(containing: "saved", timeout: 20), "\(client.stdoutLines)")
        #expect(saved.contains("holiday photos.tar"))
        #expect(saved.contains("\(content.count) bytes"))
        #expect(readFile(downloading + "/holiday photos.tar") == content)

        // A number is only a pick right after a listing; later it is a query.
        let before = client.stdoutLines.count
        client.send("1")
        #expect(client.waitForStdout(containing: "no matches for \"1\"", after: before, timeout: 10) != nil)

        // End of input stops the console, not the peer.
        client.closeInput()
        usleep(200_000)
        #expect(client.process.isRunning)
        #expect(client.stop(signal: SIGTERM) == 0)
        #expect(server.stop(signal: SIGINT) == 0)
        #expect(TemporaryFolder.names(in: downloading) == ["holiday photos.tar"])
    }

    @Test func slashQuitStopsThePeerWithStatusZero() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (peer, _) = try PeerProcess.startPeer(["--dir", temporary.path])
        peer.send("/help")
        #expect(peer.waitForStdout(containing: "/quit", timeout: 5) != nil)
        peer.send("/bogus")
        #expect(peer.waitForStdout(containing: "unknown command /bogus", timeout: 5) != nil)
        peer.send("/quit")
        #expect(peer.waitForExit(timeout: 10) == 0)
    }

    @Test func theWireAsNetcatSeesIt() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("Café Menu.txt"), Array("menu".utf8))
        let (peer, port) = try PeerProcess.startPeer(["--dir", temporary.path, "--no-console"])
        defer { _ = peer.stop() }

        // printf 'CAFÉ' | nc: no newline, the caller closes its side.
        let query = wireRequest(port: port + 1, Array("CAFÉ".utf8), closeSending: true)
        #expect(query.bytes == Array("Café Menu.txt\n".utf8))
        #expect(query.closedCleanly)
        // printf 'Café Menu.txt\r\n' | nc
        #expect(wireRequest(port: port + 2, Array("Café Menu.txt\r\n".utf8)).bytes == Array("menu".utf8))
        // echo 10.9.8.7:4000 | nc: learned, and listed to the next caller.
        #expect(wireRequest(port: port, line: "10.9.8.7:4000").bytes.isEmpty)
        #expect(wireRequest(port: port, line: "").bytes == Array("10.9.8.7:4000\n".utf8))
    }

    @Test func badArgumentsExitWithTwoAndNameTheArgument() throws {
        for (arguments, named) in [
            (["--port", "70000"], "--port"), (["--bootstrap", "nope"], "--bootstrap"), (["--wat"], "--wat"),
            (["--bootstrap", "no-such-host.invalid:5000"], "no-such-host.invalid"),
        ] {
            let peer = try PeerProcess(arguments)
            #expect(peer.waitForExit(timeout: 10) == 2)
            let first = peer.stderrText.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.contains(named), "\(arguments): \(peer.stderrText)")
            #expect(first.hasPrefix("pplus2: error: "))
        }
    }

    @Test func aBusyPortExitsWithOneAndNamesThePort() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let blocker = try SilentPeer()
        // The blocker holds p, p+1 and p+2.
        let peer = try PeerProcess(["--port", "\(blocker.port)", "--bind", "127.0.0.1", "--dir", temporary.path])
        #expect(peer.waitForExit(timeout: 10) == 1)
        #expect(
            peer.stderrText
                == "pplus2: error: port \(blocker.port) (peers) is already in use (another peer? --port 0 picks a free triple)"
        )
    }

    @Test func helpListsEveryOptionAndExitsZero() throws {
        let peer = try PeerProcess(["--help"])
        #expect(peer.waitForExit(timeout: 10) == 0)
        let help = peer.stdoutLines.joined(separator: "\n")
        for option in [
            "--port", "--bootstrap", "--dir", "--host", "--bind", "--gossip-interval", "--timeout", "--no-console",
            "--discover",
        ] {
            #expect(help.contains(option))
        }
    }

    @Test func portZeroPicksAFreeTripleAndAdvertisesTheBindAddress() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (peer, port) = try PeerProcess.startPeer(["--dir", temporary.path, "--no-console"])
        #expect(port > 0 && port <= 65533)
        #expect(
            peer.stderrText.contains(
                "listening on 127.0.0.1:\(port) (peers \(port), query \(port + 1), download \(port + 2))"
            )
        )
        #expect(peer.stop(signal: SIGTERM) == 0)
    }
}

@Suite("Stopping the executable")
struct ShutdownTests {
    init() {
        ProcessControl.ignoreBrokenPipes()
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalDuringADownloadRemovesThePartialFileAndExitsZero(signal: Int32) throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        // The serving side sends 64 KiB of the file, then stalls.
        let fake = try ScriptedPeer(
            query: .init(Array("slow.bin\n".utf8)),
            download: .init(randomBytes(65536, seed: 5), then: .stall(20))
        )
        defer { fake.stop() }
        let (peer, _) = try PeerProcess.startPeer([
            "--dir", temporary.path, "--bootstrap", "127.0.0.1:\(fake.port)", "--timeout", "20",
        ])
        peer.send("slow")
        #expect(peer.waitForStdout(containing: "1) slow.bin", timeout: 10) != nil)
        peer.send("1")
        let partialAppeared = waitUntil(timeout: 10) {
            TemporaryFolder.names(in: temporary.path).contains { $0.hasSuffix(".part") }
        }
        #expect(partialAppeared)
        #expect(peer.stop(signal: signal, timeout: 5) == 0)
        #expect(TemporaryFolder.names(in: temporary.path).isEmpty)
    }
}
