import Foundation
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// The console as a person (through a terminal, in tmux) and a script
/// (through a pipe) use it.
@Suite("The console")
struct ConsoleTests {
    init() {
        ProcessControl.ignoreBrokenPipes()
    }

    @Test func startUpSummarySaysWhoWhereAndWhatNext() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("one.txt"), [1])
        try writeFile(temporary.file("two.txt"), [2])
        let (peer, port) = try PeerProcess.startPeer(["--dir", temporary.path, "--bootstrap", "127.0.0.1:9"])
        defer { _ = peer.stop() }
        let real = URL(fileURLWithPath: temporary.path).resolvingSymlinksInPath().path
        #expect(peer.waitForStderr(containing: "/help for commands", timeout: 5) != nil)
        let text = peer.stderrText
        #expect(text.contains("this peer: 127.0.0.1:\(port) (peers \(port), query \(port + 1), download \(port + 2))"))
        #expect(text.contains("shared folder: \(real) (2 files)"))
        #expect(text.contains("bootstrap peers: 127.0.0.1:9"))
        #expect(text.contains("LAN discovery: off"))
    }

    @Test func aFailedDownloadOffersTheSameFileOnAnotherPeer() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let first = try temporary.folder("first")
        let second = try temporary.folder("second")
        // The same content on both: the other copy is worth trying (another content would not be).
        try writeFile(first + "/same.txt", Array("the same bytes".utf8))
        try writeFile(second + "/same.txt", Array("the same bytes".utf8))
        let (peerA, portA) = try PeerProcess.startPeer(["--dir", first, "--no-console"])
        let (peerB, portB) = try PeerProcess.startPeer(["--dir", second, "--no-console"])
        defer { _ = peerB.stop() }
        let mine = try temporary.folder("mine")
        let (console, _) = try PeerProcess.startPeer([
            "--dir", mine, "--bootstrap", "127.0.0.1:\(portA)", "--bootstrap", "127.0.0.1:\(portB)",
            "--gossip-interval", "60", "--timeout", "2",
        ])
        defer { _ = console.stop() }

        console.send("same")
        #expect(console.waitForStdout(containing: "2 matches", timeout: 10) != nil)
        let lines = console.stdoutLines
        // On a pipe each copy has its line, with the size the extension told.
        #expect(lines.contains("  1) same.txt  [127.0.0.1:\(portA)]  14"))
        #expect(lines.contains("  2) same.txt  [127.0.0.1:\(portB)]  14"))
        _ = peerA.stop(signal: SIGKILL)  // the first copy's peer dies before the pick
        console.send("1")
        let offer = console.waitForStdout(containing: "press Enter to try", timeout: 10)
        #expect(offer == "same.txt is also on 1 other peer: press Enter to try 127.0.0.1:\(portB), or type a query")
        console.send("")
        #expect(console.waitForStdout(containing: "saved same.txt", timeout: 10) != nil)
        #expect(readFile(mine + "/same.txt") == Array("the same bytes".utf8))
    }

    @Test func browsePeersAndWrongArguments() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let shared = try temporary.folder("shared")
        try writeFile(shared + "/a.txt", [1])
        try writeFile(shared + "/b.txt", [2])
        let (server, port) = try PeerProcess.startPeer(["--dir", shared, "--no-console", "--gossip-interval", "0.1"])
        let (console, _) = try PeerProcess.startPeer([
            "--dir", try temporary.folder("mine"), "--bootstrap", "127.0.0.1:\(port)", "--gossip-interval", "0.1",
            "--timeout", "0.5",
        ])
        defer { _ = console.stop() }

        console.send("/browse 127.0.0.1:\(port)")
        #expect(console.waitForStdout(containing: "2 matches (asked 1 peer)", timeout: 10) != nil)
        #expect(console.stdoutLines.contains("  2) b.txt  [127.0.0.1:\(port)]  1"))
        for (line, message) in [
            ("/browse", "usage: /browse HOST:PORT"), ("/browse nowhere", "usage: /browse HOST:PORT"),
            ("/peers all", "/peers takes no argument"), ("/frobnicate", "unknown command /frobnicate"),
        ] {
            let before = console.stdoutLines.count
            console.send(line)
            #expect(console.waitForStdout(containing: message, after: before, timeout: 5) != nil, "\(line)")
        }

        // /peers: a table. A peer learned by gossip that dies is shown as dropped;
        // the bootstrap peer that dies is kept, failing.
        let (extra, extraPort) = try PeerProcess.startPeer([
            "--dir", try temporary.folder("extra"), "--no-console", "--bootstrap", "127.0.0.1:\(port)",
        ])
        var before = console.stdoutLines.count
        let learned = waitUntil(timeout: 10) {
            before = console.stdoutLines.count
            console.send("/peers")
            _ = console.waitForStdout(containing: "known peer", after: before, timeout: 2)
            usleep(100_000)
            return console.stdoutLines.dropFirst(before).contains { $0.contains("127.0.0.1:\(extraPort)") }
        }
        #expect(learned)
        #expect(console.stdoutLines.dropFirst(before).contains { $0.hasPrefix("  PEER") && $0.contains("LEARNED") })
        _ = extra.stop()
        _ = server.stop()
        var rows: [String] = []
        let shown = waitUntil(timeout: 15) {
            before = console.stdoutLines.count
            console.send("/peers")
            _ = console.waitForStdout(containing: "known peer", after: before, timeout: 2)
            usleep(100_000)
            rows = Array(console.stdoutLines.dropFirst(before))
            return rows.contains { $0.contains("127.0.0.1:\(extraPort)") && $0.contains("dropped") }
                && rows.contains { $0.contains("127.0.0.1:\(port)") && $0.contains("failing") }
        }
        #expect(shown, "\(rows)")
    }

    @Test func knownPeersSurviveARestart() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (other, otherPort) = try PeerProcess.startPeer(["--dir", try temporary.folder("other"), "--no-console"])
        defer { _ = other.stop() }
        let mine = try temporary.folder("mine")
        let (first, _) = try PeerProcess.startPeer([
            "--dir", mine, "--no-console", "--bootstrap", "127.0.0.1:\(otherPort)", "--gossip-interval", "0.1",
        ])
        usleep(300_000)
        #expect(first.stop() == 0)
        #expect(String(decoding: readFile(mine + "/.pplus2-peers") ?? [], as: UTF8.self) == "127.0.0.1:\(otherPort)\n")

        // Restarted without --bootstrap, it knows its peer again.
        let (second, _) = try PeerProcess.startPeer(["--dir", mine, "--gossip-interval", "60"])
        defer { _ = second.stop() }
        #expect(second.stderrText.contains("saved peers: 1 from the last run"))
        second.send("/peers")
        let row = second.waitForStdout(containing: "127.0.0.1:\(otherPort)", timeout: 5)
        #expect(row?.hasSuffix("saved") == true, "\(row ?? "")")
        // The state file is never offered.
        second.send("")
        #expect(second.waitForStdout(containing: "no matches", timeout: 5) != nil)
    }

    @Test func aCorruptSavedListIsIgnoredWithAWarning() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file(".pplus2-peers"), [0xFF, 0x00, 0x41, 0x0A, 0x13])
        let (peer, _) = try PeerProcess.startPeer(["--dir", temporary.path, "--no-console"])
        defer { _ = peer.stop() }
        #expect(peer.stderrText.contains("ignoring the saved peer list .pplus2-peers"))
    }

    // MARK: On a terminal

    @Test func onATerminalAPromptAlignedColumnsAndColourUnlessNoColor() throws {
        let tmux = try Tmux()
        defer { tmux.kill() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let shared = try temporary.folder("shared")
        try writeFile(shared + "/short.txt", [1])
        try writeFile(shared + "/a-much-longer-name.txt", [2])
        let (server, port) = try PeerProcess.startPeer(["--dir", shared, "--no-console"])
        defer { _ = server.stop() }
        for noColor in [false, true] {
            let window = try tmux.open(
                [
                    PeerProcess.executable, "--port", "0", "--bind", "127.0.0.1", "--dir",
                    try temporary.folder("mine-\(noColor)"), "--bootstrap", "127.0.0.1:\(port)", "--gossip-interval",
                    "60",
                ],
                environment: noColor ? ["NO_COLOR": "1"] : [:]
            )
            #expect(tmux.waitForScreen(window, containing: "/help for commands", timeout: 10) != nil)
            tmux.type(window, "txt")
            let screen = try #require(tmux.waitForScreen(window, containing: "2 matches", timeout: 10))
            let lines = screen.split(separator: "\n").map(String.init)
            let long = try #require(lines.first { $0.hasPrefix("  1) a-much-longer-name.txt  [") })
            let short = try #require(lines.first { $0.hasPrefix("  2) short.txt ") })
            #expect(
                long.firstIndex(of: "[")?.utf16Offset(in: long) == short.firstIndex(of: "[")?.utf16Offset(in: short)
            )
            #expect(lines.contains("> txt"))
            #expect(screen.contains("pick a number>"))
            let coloured = tmux.capture(window, escapes: true)
            #expect(coloured.contains("\u{1B}[1m") != noColor, "NO_COLOR=\(noColor)")
            tmux.type(window, "/quit")
        }
    }

    @Test func onATerminalADownloadShowsLiveProgress() throws {
        let tmux = try Tmux()
        defer { tmux.kill() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        // A peer that sends 60 bytes over about 3 s.
        let slow = try ScriptedPeer(
            query: .init(Array("slow.bin\n".utf8)),
            download: .init([UInt8](repeating: 0x61, count: 60), drip: 0.05)
        )
        defer { slow.stop() }
        let window = try tmux.open([
            PeerProcess.executable, "--port", "0", "--bind", "127.0.0.1", "--dir", try temporary.folder("mine"),
            "--bootstrap", "127.0.0.1:\(slow.port)", "--gossip-interval", "60",
        ])
        #expect(tmux.waitForScreen(window, containing: "/help for commands", timeout: 10) != nil)
        tmux.type(window, "slow")
        #expect(tmux.waitForScreen(window, containing: "1 match", timeout: 10) != nil)
        tmux.type(window, "1")
        let progress = tmux.waitForScreen(window, containing: "B/s", timeout: 10)
        #expect(progress?.contains("slow.bin: ") == true)
        #expect(tmux.waitForScreen(window, containing: "saved slow.bin", timeout: 15) != nil)
    }
}

/// The line editor through a real terminal: typed text survives log lines,
/// history comes back across runs, Ctrl-C cancels a download that drips while
/// the console keeps answering, Ctrl-D quits, and the terminal's mode is the
/// one it was before.
@Suite struct LineEditorTerminalTests {
    @Test func typedTextSurvivesLogLinesAndHistoryIsKeptAcrossRuns() throws {
        let tmux = try Tmux()
        defer { tmux.kill() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (server, port) = try PeerProcess.startPeer(["--dir", try temporary.folder("other"), "--no-console"])
        defer { _ = server.stop() }
        let state = try temporary.folder("state")
        let command = [
            PeerProcess.executable, "--port", "0", "--bind", "127.0.0.1", "--dir", try temporary.folder("mine"),
            "--bootstrap", "127.0.0.1:\(port)", "--gossip-interval", "0.2", "--verbose",
        ]
        let window = try tmux.open(command, environment: ["XDG_STATE_HOME": state])
        #expect(tmux.waitForScreen(window, containing: "/help for commands", timeout: 10) != nil)
        tmux.typeWithoutEnter(window, "zz")
        usleep(1_000_000)  // five gossip contacts, each a log line
        let typing = tmux.capture(window).split(separator: "\n").last.map(String.init) ?? ""
        #expect(typing == "> zz", "the line being typed after the log lines: \(typing)")
        #expect(tmux.capture(window).contains("pplus2: gossip with"))
        tmux.type(window, "q")
        #expect(tmux.waitForScreen(window, containing: "no matches for \"zzq\"", timeout: 10) != nil)
        tmux.type(window, "/quit")
        #expect(
            waitUntil(timeout: 5) {
                readFile(state + "/pplus2/history").map { String(decoding: $0, as: UTF8.self) } == "zzq\n/quit\n"
            }
        )

        let again = try tmux.open(command, environment: ["XDG_STATE_HOME": state])
        #expect(tmux.waitForScreen(again, containing: "/help for commands", timeout: 10) != nil)
        tmux.keys(again, "Up", "Up", "Enter")
        #expect(tmux.waitForScreen(again, containing: "no matches for \"zzq\"", timeout: 10) != nil)
        tmux.typeWithoutEnter(again, "/pe")
        tmux.keys(again, "Tab")
        #expect(tmux.waitForScreen(again, containing: "> /peers", timeout: 5) != nil)
        tmux.keys(again, "C-u", "C-d")
        #expect(tmux.waitForScreen(again, containing: "[exited", timeout: 5) != nil || tmux.isGone(again))
    }

    @Test func controlCCancelsADrippingDownloadWhileTheConsoleAnswers() throws {
        let tmux = try Tmux()
        defer { tmux.kill() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        // 600 bytes, one every half second: five minutes.
        let slow = try ScriptedPeer(
            query: .init(Array("drip.bin\n".utf8)),
            download: .init([UInt8](repeating: 0x61, count: 600), drip: 0.5)
        )
        defer { slow.stop() }
        let modes = temporary.file("modes")
        let mine = try temporary.folder("mine")
        let script = """
            stty -g > '\(modes)'; '\(PeerProcess.executable)' --port 0 --bind 127.0.0.1 --dir '\(mine)' \
            --bootstrap 127.0.0.1:\(slow.port) --gossip-interval 60; stty -g >> '\(modes)'; sleep 30
            """
        let window = try tmux.open(["/bin/sh", "-c", script])
        #expect(tmux.waitForScreen(window, containing: "/help for commands", timeout: 10) != nil)
        tmux.type(window, "drip")
        #expect(tmux.waitForScreen(window, containing: "1 match", timeout: 10) != nil)
        tmux.type(window, "1")
        #expect(tmux.waitForScreen(window, containing: "[1] drip.bin: ", timeout: 10) != nil)
        let asked = MonotonicClock.now
        tmux.type(window, "/peers")
        #expect(tmux.waitForScreen(window, containing: "127.0.0.1:\(slow.port)", timeout: 5) != nil)
        #expect(MonotonicClock.now - asked < 1, "/peers answered within 1 s while the download runs")
        tmux.type(window, "/downloads")
        #expect(tmux.waitForScreen(window, containing: "  1) drip.bin: ", timeout: 5) != nil)
        tmux.keys(window, "C-c")
        #expect(tmux.waitForScreen(window, containing: "download of drip.bin cancelled", timeout: 5) != nil)
        #expect(TemporaryFolder.names(in: mine).filter { !$0.hasPrefix(".") }.isEmpty)
        tmux.keys(window, "C-c")
        #expect(tmux.waitForScreen(window, containing: "Ctrl-C again", timeout: 5) != nil)
        tmux.keys(window, "C-c")
        let bothModes = waitUntil(timeout: 5) {
            (readFile(modes).map { String(decoding: $0, as: UTF8.self) }?.split(separator: "\n").count ?? 0) == 2
        }
        #expect(bothModes, "the peer quit on the second Ctrl-C")
        let lines = readFile(modes).map { String(decoding: $0, as: UTF8.self) }?.split(separator: "\n") ?? []
        #expect(lines.count == 2 && lines.first == lines.last, "the terminal's mode after is the mode before")
    }
}

/// Every way out of a terminal's console puts the terminal's mode back as it
/// was (`stty -g` before and after): Ctrl-D, `/quit`, SIGTERM, and a crash
/// (SIGSEGV sent to the process: the shim's handler restores the mode first).
@Suite struct TerminalRestoreTests {
    @Test(arguments: ["ctrl-d", "quit", "sigterm", "crash"])
    func theTerminalModeIsPutBack(way: String) throws {
        let tmux = try Tmux()
        defer { tmux.kill() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let modes = temporary.file("modes")
        let pidFile = temporary.file("pid")
        let mine = try temporary.folder("mine")
        // The inner shell writes its pid, then becomes the peer (same pid, same terminal).
        let script = """
            stty -g > '\(modes)'; sh -c 'echo $$ > "$0"; exec "$@"' '\(pidFile)' '\(PeerProcess.executable)' \
            --port 0 --bind 127.0.0.1 --dir '\(mine)' --gossip-interval 60; stty -g >> '\(modes)'; sleep 30
            """
        // The runtime's backtracer would wait for a person at a terminal after a crash.
        let window = try tmux.open(["/bin/sh", "-c", script], environment: ["SWIFT_BACKTRACE": "interactive=no"])
        #expect(tmux.waitForScreen(window, containing: "/help for commands", timeout: 10) != nil)
        tmux.typeWithoutEnter(window, "typed")
        let pid = try #require(
            readFile(pidFile).flatMap { Int32(String(decoding: $0.prefix { $0 != 0x0A }, as: UTF8.self)) }
        )
        switch way {
        case "ctrl-d": tmux.keys(window, "C-u", "C-d")
        case "quit":
            tmux.keys(window, "C-u")
            tmux.type(window, "/quit")
        case "sigterm": kill(pid, SIGTERM)
        default: kill(pid, SIGSEGV)
        }
        let ended = waitUntil(timeout: 10) {
            (readFile(modes).map { String(decoding: $0, as: UTF8.self) }?.split(separator: "\n").count ?? 0) == 2
        }
        #expect(ended, "the peer ended (\(way))")
        let lines = readFile(modes).map { String(decoding: $0, as: UTF8.self) }?.split(separator: "\n") ?? []
        #expect(lines.count == 2 && lines.first == lines.last, "the mode after \(way) is the mode before")
    }
}

/// A private tmux server (its own socket), for driving the console through a
/// real terminal and reading what the screen shows.
final class Tmux: @unchecked Sendable {
    private let socket = "pplus2-test-\(UInt32.random(in: 0...UInt32.max))"
    private var windows = 0

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            try Test.cancel("skipped: tmux is not installed (.ci/run installs it)")
        }
    }

    /// Starts `command` in a new 120 x 40 session; returns its name.
    func open(_ command: [String], environment: [String: String] = [:]) throws -> String {
        windows += 1
        let name = "w\(windows)"
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let exports = environment.map { "\($0.key)=\($0.value) " }.joined()
        try runCommand(
            "/usr/bin/tmux",
            [
                "-L", socket, "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
                "env -u NO_COLOR \(exports)TERM=xterm \(quoted)",
            ],
            capturing: false
        )
        return name
    }

    func type(_ window: String, _ text: String) {
        typeWithoutEnter(window, text)
        keys(window, "Enter")
    }

    func typeWithoutEnter(_ window: String, _ text: String) {
        _ = try? runCommand("/usr/bin/tmux", ["-L", socket, "send-keys", "-t", window, "-l", text])
    }

    /// Named keys: `Up`, `Tab`, `C-c`...
    func keys(_ window: String, _ names: String...) {
        _ = try? runCommand("/usr/bin/tmux", ["-L", socket, "send-keys", "-t", window] + names)
    }

    /// True once the window's command ended (its session is gone).
    func isGone(_ window: String) -> Bool {
        waitUntil(timeout: 5) {
            (try? runCommand("/usr/bin/tmux", ["-L", socket, "has-session", "-t", window])) == nil
        }
    }

    func capture(_ window: String, escapes: Bool = false) -> String {
        (try? runCommand(
            "/usr/bin/tmux",
            ["-L", socket, "capture-pane", "-p"] + (escapes ? ["-e"] : []) + ["-t", window]
        ))
            ?? ""
    }

    func waitForScreen(_ window: String, containing text: String, timeout: Double) -> String? {
        var screen = ""
        return waitUntil(timeout: timeout) {
            screen = capture(window)
            return screen.contains(text)
        } ? screen : nil
    }

    func kill() {
        _ = try? runCommand("/usr/bin/tmux", ["-L", socket, "kill-server"], capturing: false)
    }
}
