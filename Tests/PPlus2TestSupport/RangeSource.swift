import Foundation
import PPlus2Core
import PPlus2POSIX
import Synchronization

/// A fake pplus2 peer that serves one file by the extension's ranges
/// (`\u{1}get OFFSET LENGTH SHA256 NAME` on its port p+2), honestly or not:
/// it can reset in the middle of its first range, stall on every range, or
/// send wrong bytes. With `announcesPieces`, it also answers `\u{1}chain`
/// with the piece list of what it serves: the true one of its content, or,
/// for `sendsInstead`, the chaining values of the other bytes ending at the
/// content's SHA-256 (the strongest liar: its lie holds together up to its
/// last piece). For tests of multi-source downloads.
public final class RangeSource: @unchecked Sendable {
    public enum Behaviour: Sendable {
        case honest
        /// The first range it is asked for stops halfway with a reset; later ones are whole.
        case resetsMidRange
        /// Sends the header of each range, then nothing, for this many seconds.
        case stalls(Double)
        /// Every range comes with its first byte changed.
        case corrupts
        /// Serves this many ranges whole, then resets every later one before its first byte.
        case resetsAfter(ranges: Int)
        /// Announces the content's SHA-256 and serves these bytes (as many) instead.
        case sendsInstead([UInt8])
        /// Sends half of its first range with a byte changed, then closes; later ranges are whole.
        case corruptsThenEndsEarly
    }

    public let port: UInt16
    public let content: [UInt8]
    /// Bytes of file content sent, in all.
    public var sentBytes: Int { sent.load(ordering: .relaxed) }
    /// The ranges asked of it, in the order asked.
    public var requests: [Range<Int64>] { asked.withLock { $0 } }

    private let behaviour: Behaviour
    /// The lines of its `\u{1}chain` answer after the header; nil if it gives none.
    private let pieceLines: [String]?
    private let stopped = Atomic(false)
    private let sent = Atomic(0)
    private let served = Atomic(0)
    private let asked = Mutex<[Range<Int64>]>([])
    private var threads: [ThreadHandle] = []

    /// `bindsList: false` makes the list of `sendsInstead` end at the other
    /// bytes' SHA-256 (a naive liar, found out before a byte).
    public init(content: [UInt8], behaviour: Behaviour, announcesPieces: Bool = false, bindsList: Bool = true) throws {
        let silent = try SilentPeer()
        port = silent.port
        self.content = content
        self.behaviour = behaviour
        var hasher = PieceHasher(
            size: Int64(content.count),
            blockFunction: HardwareSHA256.blockFunction ?? SHA256.portable
        )
        var announced = content
        if case .sendsInstead(let other) = behaviour { announced = other }
        announced.withUnsafeBytes { hasher.update($0) }
        let list = hasher.finish(size: Int64(content.count)).flatMap { hashed in
            // Bound to the content's SHA-256 whatever bytes it stands for.
            bindsList
                ? PieceList(size: hashed.pieces.size, chain: hashed.pieces.chain.dropLast() + [SHA256.hash(content)])
                : hashed.pieces
        }
        pieceLines = announcesPieces ? list.map(Extension.pieceLines) : nil
        let listener = silent.sockets[2]
        let thread = ThreadHandle()
        try thread.start(name: "range-source") { [self] in serve(listener, keeping: silent) }
        threads.append(thread)
    }

    private func serve(_ listener: TCPSocket, keeping silent: SilentPeer) {
        let digest = SHA256.hash(content)
        var handlers: [ThreadHandle] = []
        while !stopped.load(ordering: .acquiring) {
            guard listener.descriptor.waitUntilReadable(timeout: 0.1), let connection = try? listener.accept() else {
                continue
            }
            let handler = ThreadHandle()
            try? handler.start(name: "range-conn") { [self] in answer(connection, digest: digest) }
            handlers.append(handler)
        }
        for handler in handlers { handler.join() }
        _ = silent
    }

    private func answer(_ connection: TCPSocket, digest: SHA256Digest) {
        defer { connection.descriptor.close() }  // a request it does not know: closed at once, as a peer would
        let line = readRequestLine(connection)
        if case .pieces? = Extension.parse(line), let pieceLines {
            let lines = [Extension.getHeader(size: Int64(content.count), sha256: digest)] + pieceLines
            try? connection.send(Array(lines.map { $0 + "\n" }.joined().utf8), idleTimeout: 5)
            return
        }
        guard case .get(let offset, let length, _, _)? = Extension.parse(line) else { return }
        let end = min(Int64(content.count), offset + (length ?? Int64(content.count)))
        asked.withLock { $0.append(offset..<end) }
        var body = Array(content[Int(offset)..<Int(end)])
        if case .sendsInstead(let other) = behaviour { body = Array(other[Int(offset)..<Int(end)]) }
        let count = served.add(1, ordering: .relaxed).newValue
        let first = count == 1
        if case .resetsAfter(let ranges) = behaviour, count > ranges { return connection.abortOnClose() }
        try? connection.send(
            Array((Extension.getHeader(size: Int64(content.count), sha256: digest) + "\n").utf8),
            idleTimeout: 5
        )
        switch behaviour {
        case .honest: break
        case .resetsMidRange where first:
            body = Array(body.prefix(body.count / 2))
            send(body, on: connection)
            return connection.abortOnClose()
        case .resetsMidRange: break
        case .stalls(let seconds):
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline && !stopped.load(ordering: .acquiring) { usleep(20_000) }
            return connection.abortOnClose()
        case .corrupts:
            if !body.isEmpty { body[0] ^= 0xFF }
        case .resetsAfter, .sendsInstead: break
        case .corruptsThenEndsEarly where first:
            body = Array(body.prefix(body.count / 2))
            if !body.isEmpty { body[body.count / 2] ^= 0xFF }
        case .corruptsThenEndsEarly: break
        }
        send(body, on: connection)
    }

    private func send(_ body: [UInt8], on connection: TCPSocket) {
        var position = 0
        while position < body.count, !stopped.load(ordering: .acquiring) {
            let block = Array(body[position..<min(body.count, position + (1 << 20))])
            guard (try? connection.send(block, idleTimeout: 5)) != nil else { return }
            position += block.count
            _ = sent.add(block.count, ordering: .relaxed)
        }
    }

    public func stop() {
        stopped.store(true, ordering: .releasing)
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    deinit {
        stop()
    }
}
