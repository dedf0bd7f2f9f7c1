import Foundation
import PPlus2Core
import PPlus2POSIX

/// A folder under the system's temporary folder, removed by `remove()`.
public struct TemporaryFolder: Sendable {
    public let path: String

    public init(_ label: String = "pplus2-test") throws {
        let template = NSTemporaryDirectory() + "/\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let created = mkdtemp(&bytes) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: created)
    }

    /// The path of `name` inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }

    /// A sub-folder, created.
    public func folder(_ name: String) throws -> String {
        let path = file(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The names in `folder`, hidden ones included (partial downloads show),
    /// sorted; only the peer's own state files (its saved peer list and hash
    /// cache, and their drafts while they are being replaced) are left out.
    public static func names(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { !$0.hasPrefix(".pplus2-peers") && !$0.hasPrefix(".pplus2-hashes") }.sorted()
    }
}

/// How much slower code runs in this test process: 4 under a sanitizer
/// (`scripts/sanitizers.sh` sets PPLUS2_UNDER_SANITIZER), else 1. For the
/// few tests whose timeouts are tight enough to be met only at full speed.
public let sanitizerSlowdown: Double = ProcessInfo.processInfo.environment["PPLUS2_UNDER_SANITIZER"] == nil ? 1 : 4

/// Writes `bytes` to `path`.
public func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

public func removeFile(_ path: String) throws {
    try FileManager.default.removeItem(atPath: path)
}

public func readFile(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}

/// `count` pseudo-random bytes from a seeded generator (reproducible).
public func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = generator.next()
        for _ in 0..<8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}

/// The seeded generator of the core, for reproducible tests.
public typealias SeededGenerator = PPlus2Core.SeededGenerator

/// What a caller with a raw socket gets: sends `request` as is (no newline
/// added), optionally closes its sending side, and reads until the callee
/// closes or `timeout` passes.
public struct WireAnswer: Sendable {
    public var bytes: [UInt8] = []
    /// True if the callee closed with end of stream (not a reset or a timeout).
    public var closedCleanly = false
    public var failure: IOFailure?

    public var lines: [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }
}

public func wireRequest(
    port: UInt16,
    _ request: [UInt8],
    address: UInt32 = 0x7F00_0001,
    closeSending: Bool = false,
    timeout: Double = 5
) -> WireAnswer {
    var answer = WireAnswer()
    do {
        let socket = try TCPSocket.connect(address: address, port: port, timeout: timeout)
        try socket.send(request, idleTimeout: timeout)
        if closeSending { socket.shutdownWrite() }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = try socket.receive(into: &buffer, timeout: deadline.timeIntervalSinceNow)
            if count == 0 {
                answer.closedCleanly = true
                break
            }
            answer.bytes += buffer[..<count]
        }
    } catch {
        answer.failure = error
    }
    return answer
}

public func wireRequest(port: UInt16, line: String, timeout: Double = 5) -> WireAnswer {
    wireRequest(port: port, Array((line + "\n").utf8), timeout: timeout)
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
public func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// A listener that accepts connections and never answers: the silent peer.
/// It holds the three ports of a peer triple.
public final class SilentPeer: @unchecked Sendable {
    public let port: UInt16
    let sockets: [TCPSocket]

    public init() throws {
        for _ in 0..<100 {
            let first = try TCPSocket.listen(address: 0x7F00_0001, port: 0)
            let port = try first.localAddress().port
            guard port <= 65533,
                let second = try? TCPSocket.listen(address: 0x7F00_0001, port: port + 1),
                let third = try? TCPSocket.listen(address: 0x7F00_0001, port: port + 2)
            else { continue }
            self.port = port
            sockets = [first, second, third]
            return
        }
        throw CocoaError(.fileWriteUnknown)
    }
}

/// The number of open descriptors of this process.
public func openDescriptorCount() -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
}

/// Runs a command to its end; returns its standard output, throws on failure.
/// With `capturing` false the output goes to /dev/null: for commands that leave
/// a daemon behind (tmux), which would hold a pipe open forever.
@discardableResult
public func runCommand(_ executable: String, _ arguments: [String], capturing: Bool = true) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    guard capturing else {
        // system(3): the shell waits for and reaps the command itself.
        let quoted = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = quoted.joined(separator: " ")
        guard system(command + " </dev/null >/dev/null 2>&1") == 0 else {
            throw CommandError(command: command, message: "failed")
        }
        return ""
    }
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandError(command: ([executable] + arguments).joined(separator: " "), message: errorText)
    }
    return String(decoding: data, as: UTF8.self)
}

public struct CommandError: Error, CustomStringConvertible {
    public let command: String
    public let message: String
    public var description: String { "\(command): \(message)" }
}
