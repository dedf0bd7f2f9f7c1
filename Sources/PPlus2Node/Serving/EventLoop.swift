import PPlus2Core
import PPlus2POSIX

/// The server's one thread: every connection of the three ports, from accept
/// to its one close or reset, driven by readiness (`EventPoll`).
///
/// A connection goes through three phases (`Slot.Phase`):
/// 1. reading its request line, within 10 s and 4096 bytes (`RequestLineReader`);
/// 2. queued, when its port or its caller's address has as many answers in
///    progress as allowed (`Configuration.ServiceCapacity`), until a place
///    frees or its 10 s are over (then a reset: never a clean empty close);
/// 3. sending: the service's answer (`Answer`) moved as the socket takes it,
///    bytes then a file's range by non-blocking `sendfile`, shared among the
///    callers by address (`EventLoop+Sending`), held to the rules of
///    `Transfer` (minimum rate, idle time), ended by a clean close when all
///    is sent, or a reset when it cannot be.
/// Limits by what is scarce (`EventLoop+Limits`): descriptors (a reserve kept
/// for the worst case, the oldest idle connection of the heaviest address
/// closed to make room, never a spin on EMFILE), pending lines per address
/// and per /24.
final class EventLoop: @unchecked Sendable {
    /// One connection and where it stands. Touched by the loop thread only.
    final class Slot {
        enum Phase {
            case reading(RequestLineReader)
            case queued(line: String)
            case sending(Transfer, file: ServedFile?)
        }

        let token: UInt64
        let connection: Connection
        let endpoint: Int
        let address: UInt32
        /// The request line's deadline (10 s from accepting), also a queued request's.
        let deadline: Double
        var phase: Phase
        var interest: EventPoll.Interest = .readable

        init(token: UInt64, connection: Connection, endpoint: Int, address: UInt32, deadline: Double) {
            self.token = token
            self.connection = connection
            self.endpoint = endpoint
            self.address = address
            self.deadline = deadline
            phase = .reading(RequestLineReader())
        }

        var isReading: Bool {
            if case .reading = phase { return true }
            return false
        }
    }

    /// A file being served: it must still be this version when its last byte is sent.
    struct ServedFile {
        let descriptor: FileDescriptor
        let status: FileStatus
        let name: String
    }

    static let wakeToken: UInt64 = 1 << 62

    let endpoints: [Server.Endpoint]
    let limits: Configuration.ServerLimits
    let rules: Transfer.Rules
    let poll: EventPoll
    let wakeUp: NonBlockingPipe
    let thread: ThreadHandle
    let log: Log
    var slots: [UInt64: Slot] = [:]
    var nextToken: UInt64 = 16
    /// Answers in progress, by port, and by port and caller address.
    var inFlight = [Int](repeating: 0, count: 3)
    var inFlightByAddress: [Int: [UInt32: Int]] = [:]
    /// Connections reading their line, by caller address.
    var pending = PendingLines()
    /// Descriptors held by served files (connections are `slots.count`).
    var openFiles = 0
    /// Closed to accept-and-reset one connection when the process is out of descriptors.
    var reserve: FileDescriptor?
    /// After running out of descriptors, listeners rest until then.
    var acceptingResumesAt = -Double.infinity
    var nextCheck = 0.0
    /// Queued requests in arrival order (a token whose slot moved on is dropped when met).
    var queue: [UInt64] = []
    /// An answer ended since queued requests were last looked at: a place is free.
    var placeFreed = false
    /// Descriptors connections and served files may hold: the process's limit
    /// less a margin for the peer's own files.
    let descriptorBudget: Int
    var buffer = [UInt8](repeating: 0, count: RequestLineReader.maxLineBytes + 2)
    /// What was served since the console was last told.
    var served = ServedTally()

    init(
        endpoints: [Server.Endpoint],
        limits: Configuration.ServerLimits,
        rules: Transfer.Rules,
        wakeUp: NonBlockingPipe,
        thread: ThreadHandle,
        log: Log
    ) throws(IOFailure) {
        self.endpoints = endpoints
        self.limits = limits
        self.rules = rules
        self.wakeUp = wakeUp
        self.thread = thread
        self.log = log
        poll = try EventPoll()
        descriptorBudget = max(16, EventPoll.descriptorLimit - limits.reservedDescriptors)
        for (index, endpoint) in endpoints.enumerated() {
            try poll.add(endpoint.listener.descriptor, token: UInt64(index), for: .readable)
        }
        try poll.add(wakeUp.readEnd, token: Self.wakeToken, for: .readable)
        reserve = try? FileReading.open("/dev/null")
    }

    func run() {
        var writable: [Slot] = []
        while !thread.isStopping {
            let now = MonotonicClock.now
            resumeAccepting(now: now)
            // Deadlines to watch only while connections are held: an idle loop sleeps.
            let isIdle = slots.isEmpty && acceptingResumesAt == -Double.infinity
            var timeout = !writable.isEmpty ? 0 : isIdle ? 60 : min(max(0, nextCheck - now), 1)
            if let due = served.dueAt { timeout = min(timeout, max(0, due - now)) }
            writable.removeAll(keepingCapacity: true)
            for ready in poll.wait(timeout: timeout) {
                if ready.token == Self.wakeToken {
                    wakeUp.drain()
                } else if ready.token < UInt64(endpoints.count) {
                    acceptAll(on: Int(ready.token))
                } else if let slot = slots[ready.token] {
                    if slot.isReading {
                        readRequest(slot)
                    } else if slot.wantsToWrite {
                        writable.append(slot)
                    } else if ready.isBroken {
                        end(slot, reset: true)  // a queued caller that went away
                    }
                }
            }
            if thread.isStopping { break }
            sendFairly(writable)
            writable.removeAll { slots[$0.token] == nil || !$0.wantsToWrite }
            if placeFreed {
                placeFreed = false
                startQueued()
            }
            if let line = served.line(now: MonotonicClock.now) { log.notice(line) }
            if MonotonicClock.now >= nextCheck {
                checkDeadlines()
                startQueued()
                nextCheck = MonotonicClock.now + 0.1
            }
        }
        shutDown()
    }

    /// Stopped: every connection is reset, the listeners closed.
    private func shutDown() {
        for slot in slots.values { slot.connection.reset() }
        slots.removeAll()
        for endpoint in endpoints { endpoint.listener.descriptor.close() }
    }

    /// Reads what a connection sent of its request line.
    func readRequest(_ slot: Slot) {
        guard case .reading(var reader) = slot.phase else { return }
        let received: Int?
        do {
            received = try buffer.withMutableBytes { bytes throws(IOFailure) in
                try slot.connection.socket.receiveNow(into: bytes)
            }
        } catch {
            return end(slot, reset: false)  // reset by the caller
        }
        guard let count = received else { return }
        let outcome = count == 0 ? reader.finish() : reader.append(buffer[..<count])
        switch outcome {
        case .needMore:
            slot.phase = .reading(reader)
        case .invalid(let reason):
            log.debug("closed a \(endpoints[slot.endpoint].service.name) request: \(reason)")
            end(slot, reset: false)  // the contract: no answer, the callee closes
        case .line(let line):
            pending.remove(from: slot.address)
            slot.phase = .queued(line: line)
            if !startAnswer(slot) {
                queue.append(slot.token)
                watch(slot, for: [])
            }
        }
    }

    /// Starts the answer to a queued request if its port and its address have
    /// room (and a descriptor is free for a file); false if it must wait.
    @discardableResult
    func startAnswer(_ slot: Slot) -> Bool {
        guard case .queued(let line) = slot.phase, hasRoom(for: slot) else { return false }
        let service = endpoints[slot.endpoint].service
        let now = MonotonicClock.now
        switch service.answer(line, from: slot.address) {
        case .nothing:
            end(slot, reset: false)
        case .refuse:
            end(slot, reset: true)
        case .bytes(let bytes):
            take(slot)
            slot.phase = .sending(Transfer(bytes: bytes, isList: true, rules: rules, now: now), file: nil)
            watch(slot, for: .writable)
        case .file(let header, let file, let status, let offset, let count, let name):
            take(slot)
            openFiles += 1
            let transfer = Transfer(
                bytes: header,
                fileOffset: offset,
                fileCount: count,
                isList: false,
                rules: rules,
                now: now
            )
            slot.phase = .sending(transfer, file: ServedFile(descriptor: file, status: status, name: name))
            watch(slot, for: .writable)
        }
        return true
    }

    func watch(_ slot: Slot, for interest: EventPoll.Interest) {
        guard slot.interest != interest else { return }
        slot.interest = interest
        poll.change(slot.connection.socket.descriptor, token: slot.token, to: interest)
    }

    /// Ends a connection: the one place a slot's connection is closed or reset.
    func end(_ slot: Slot, reset: Bool) {
        guard slots.removeValue(forKey: slot.token) != nil else { return }
        poll.remove(slot.connection.socket.descriptor)
        switch slot.phase {
        case .reading:
            pending.remove(from: slot.address)
        case .queued:
            break
        case .sending(_, let file):
            give(slot)
            placeFreed = true
            if let file {
                file.descriptor.close()
                openFiles -= 1
            }
        }
        if reset { slot.connection.reset() } else { slot.connection.close() }
    }
}

extension Dictionary where Value == Int {
    /// One less for `key`; the key goes at zero.
    mutating func decrement(_ key: Key) {
        let left = self[key, default: 0] - 1
        self[key] = left > 0 ? left : nil
    }
}
