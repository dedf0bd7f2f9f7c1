import Foundation
import PPlus2POSIX
import Synchronization

/// A fake peer on 127.0.0.1 that answers each of its three ports by a script:
/// the bytes to send, then how to end (close cleanly, reset, or stall). For
/// tests of what a peer does when the other side misbehaves.
public final class ScriptedPeer: @unchecked Sendable {
    public enum Ending: Sendable {
        case close
        case reset
        /// Keep the connection open, sending nothing more, for this many seconds.
        case stall(Double)
    }

    public struct Script: Sendable {
        public var bytes: [UInt8]
        public var ending: Ending
        /// Send the bytes one at a time, this many seconds apart (a tar pit).
        public var drip: Double?
        /// With `drip`: the first this many bytes go at once, the rest drip.
        public var dripFrom: Int

        public init(_ bytes: [UInt8], then ending: Ending = .close, drip: Double? = nil, dripFrom: Int = 0) {
            self.bytes = bytes
            self.ending = ending
            self.drip = drip
            self.dripFrom = dripFrom
        }

        public static let silent = Script([], then: .stall(30))
    }

    public let port: UInt16
    /// Request lines received, per port offset (0, 1, 2).
    public var requests: [[String]] { received.withLock { $0 } }

    private let stopped = Atomic(false)
    private let received = Locked<[[String]]>([[], [], []])
    private var threads: [ThreadHandle] = []

    public init(peers: Script = Script([]), query: Script = Script([]), download: Script = Script([])) throws {
        let silent = try SilentPeer()
        port = silent.port
        let scripts = [peers, query, download]
        for offset in 0..<3 {
            let listener = silent.sockets[offset]
            let script = scripts[offset]
            let thread = ThreadHandle()
            try thread.start(name: "scripted-\(offset)") { [self] in serve(listener, script: script, offset: offset) }
            threads.append(thread)
        }
    }

    private func serve(_ listener: TCPSocket, script: Script, offset: Int) {
        var handlers: [ThreadHandle] = []
        while !stopped.load(ordering: .acquiring) {
            guard listener.descriptor.waitUntilReadable(timeout: 0.1), let connection = try? listener.accept() else {
                continue
            }
            let handler = ThreadHandle()
            try? handler.start(name: "scripted-conn") { [self] in
                let line = readRequestLine(connection)
                received.withLock { $0[offset].append(line) }
                if let drip = script.drip {
                    let first = Array(script.bytes.prefix(script.dripFrom))
                    if !first.isEmpty { try? connection.send(first, idleTimeout: 5) }
                    for byte in script.bytes.dropFirst(script.dripFrom) where !stopped.load(ordering: .acquiring) {
                        guard (try? connection.send([byte], idleTimeout: 5)) != nil else { break }
                        usleep(UInt32(drip * 1_000_000))
                    }
                } else {
                    try? connection.send(script.bytes, idleTimeout: 5)
                }
                switch script.ending {
                case .close: break
                case .reset: connection.abortOnClose()
                case .stall(let seconds):
                    let deadline = Date().addingTimeInterval(seconds)
                    while Date() < deadline && !stopped.load(ordering: .acquiring) { usleep(20_000) }
                    connection.abortOnClose()
                }
            }
            handlers.append(handler)
        }
        for handler in handlers { handler.join() }
    }

    /// Stops accepting, ends stalled connections, and waits for every thread.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    deinit {
        stop()
    }
}

/// The request line a fake peer's caller sends (up to `\n`, 2 s for each read).
func readRequestLine(_ connection: TCPSocket) -> String {
    var request: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !request.contains(0x0A), request.count <= 8192,
        let count = try? connection.receive(into: &buffer, timeout: 2), count > 0
    {
        request += buffer[..<count]
    }
    return String(decoding: request.prefix { $0 != 0x0A }, as: UTF8.self)
}
