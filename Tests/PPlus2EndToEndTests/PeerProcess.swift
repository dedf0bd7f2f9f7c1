import Foundation
import PPlus2POSIX
import PPlus2TestSupport

/// The built `pplus2` executable, run as a child process with pipes on its
/// standard streams, the way a script or another program would drive it.
final class PeerProcess: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let stdout = StreamCollector()
    private let stderr = StreamCollector()

    /// The executable next to the test bundle (`swift test` builds it there).
    static var executable: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("pplus2").path
    }

    /// Runs `pplus2 arguments`; with a `launcher`, runs `launcher... pplus2 arguments`
    /// (for example `ip netns exec NAME`, which execs it under the same pid).
    convenience init(_ arguments: [String], launcher: [String] = []) throws {
        try self.init(command: launcher + [Self.executable] + arguments)
    }

    /// Runs any program the same way (a helper a test needs beside the peers).
    init(command: [String]) throws {
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        stdout.start(reading: output.fileHandleForReading.fileDescriptor)
        stderr.start(reading: errors.fileHandleForReading.fileDescriptor)
    }

    var pid: Int32 { process.processIdentifier }

    /// Starts a peer on free ports and waits for its readiness line; returns the base port.
    static func startPeer(_ arguments: [String]) throws -> (PeerProcess, UInt16) {
        try startPeer(withPortOptions: ["--port", "0", "--bind", "127.0.0.1"] + arguments)
    }

    /// Starts a peer with exactly `arguments` and waits for its readiness line.
    static func startPeer(withPortOptions arguments: [String], launcher: [String] = []) throws -> (PeerProcess, UInt16)
    {
        let peer = try PeerProcess(arguments, launcher: launcher)
        guard let line = peer.waitForStderr(containing: "listening on", timeout: 10),
            let port = readinessPort(line)
        else {
            peer.kill()
            throw PeerProcessError.notReady(peer.stderrText)
        }
        return (peer, port)
    }

    /// The base port of `listening on IP:P (peers P, query P+1, download P+2)`.
    static func readinessPort(_ line: String) -> UInt16? {
        let pattern = /^listening on (\d+\.\d+\.\d+\.\d+):(\d+) \(peers (\d+), query (\d+), download (\d+)\)$/
        guard let match = line.wholeMatch(of: pattern), let p = UInt16(match.2), UInt16(match.3) == p,
            UInt16(match.4) == p + 1, UInt16(match.5) == p + 2
        else { return nil }
        return p
    }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    var stdoutLines: [String] { stdout.lines }
    var stderrText: String { stderr.lines.joined(separator: "\n") }

    func waitForStdout(containing text: String, after index: Int = 0, timeout: Double) -> String? {
        stdout.waitForLine(containing: text, after: index, timeout: timeout)
    }

    func waitForStderr(containing text: String, timeout: Double) -> String? {
        stderr.waitForLine(containing: text, after: 0, timeout: timeout)
    }

    /// Sends `signal` and waits for the exit; returns the status, nil on timeout.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 10) -> Int32? {
        if process.isRunning { Glibc.kill(pid, signal) }
        return waitForExit(timeout: timeout)
    }

    func waitForExit(timeout: Double) -> Int32? {
        guard waitUntil(timeout: timeout, { !process.isRunning }) else { return nil }
        stdout.finish()
        stderr.finish()
        return process.terminationStatus
    }

    func kill() {
        if process.isRunning { Glibc.kill(pid, SIGKILL) }
        process.waitUntilExit()
        stdout.finish(timeout: 1)  // joined if the stream ended (a helper's own children may hold it open)
        stderr.finish(timeout: 1)
    }

    /// The number of descriptors the child holds open.
    var openDescriptors: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    deinit {
        kill()
    }
}

enum PeerProcessError: Error {
    case notReady(String)
}

/// Reads one of the child's streams on a thread of its own and keeps its lines.
final class StreamCollector: Sendable {
    private let state = Locked<(lines: [String], partial: [UInt8], done: Bool)>(([], [], false))
    private let thread = ThreadHandle()

    func start(reading fd: Int32) {
        try? thread.start(name: "collector") { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                state.withLock { state in
                    for byte in buffer[..<count] {
                        if byte == 0x0A {
                            state.lines.append(String(decoding: state.partial, as: UTF8.self))
                            state.partial.removeAll()
                        } else {
                            state.partial.append(byte)
                        }
                    }
                }
            }
            state.withLock { $0.done = true }
        }
    }

    /// Waits (at most `timeout` seconds) for the stream's end, then for the thread.
    func finish(timeout: Double = 5) {
        if waitUntil(timeout: timeout, { state.withLock { $0.done } }) { thread.join() }
    }

    var lines: [String] { state.withLock { $0.lines } }

    func waitForLine(containing text: String, after index: Int, timeout: Double) -> String? {
        var found: String?
        _ = waitUntil(timeout: timeout) {
            found = state.withLock { $0.lines.dropFirst(index).first { $0.contains(text) } }
            return found != nil
        }
        return found
    }
}
