/// The announcing half of LAN discovery: this peer as a DNS-SD instance of
/// `_pplus2._tcp.local.`, with the manners of RFC 6762.
///
/// Its records: `_pplus2._tcp.local. PTR <instance>` (shared), and, unique
/// to this peer, `<instance> SRV 0 0 p <host>`, `<instance> TXT "v=1"` and
/// `<host> A <advertised address>`, plus the service-enumeration PTR. The host
/// name is made from the identity (`pplus2-10-0-0-7-5000.local.`), so it is
/// unique wherever identities are; the instance name is the one a person reads
/// and may clash, so it is probed:
///
/// 1. probing: three queries 250 ms apart asking whether anyone holds the name.
///    A response holding other data for it is a conflict: the name becomes
///    `name (2)`, `name (3)`... and probing starts again. Two peers probing
///    the same name at once compare their records (§8.2); the smaller waits
///    a second and probes again, then sees the winner's answer.
/// 2. announcing: the records, multicast twice, one second apart.
/// 3. running: answers queries for them, the shared PTR after 20-120 ms, the
///    unique records at once; never the same record on the multicast group
///    twice within a second (250 ms to defend a name against a probe); known
///    answers suppress; askers from a port other than 5353 get a unicast
///    answer, at most 10 per second in all.
/// 4. stop: the records once more with TTL 0, a goodbye.
public struct MulticastDNSResponder: Sendable {
    public enum Phase: Sendable, Equatable {
        case probing, announcing, running, stopped
    }

    /// The records this peer owns.
    enum Record: CaseIterable, Sendable {
        case pointer, service, text, address, enumeration

        var isShared: Bool { self == .pointer || self == .enumeration }

        /// Records sent along with this one, saving the asker a second question.
        var additional: [Record] {
            switch self {
            case .pointer: [.service, .text, .address]
            case .service: [.address]
            default: []
            }
        }
    }

    public let identity: PeerIdentity
    /// The name asked for; a conflict appends " (2)", " (3)"...
    public let baseName: String
    /// Seconds our records live in other peers' caches.
    public let ttl: UInt32
    public private(set) var phase = Phase.probing
    /// The instance name in use (after any renames).
    public private(set) var instanceName: String
    public private(set) var renames = 0

    private var instance: DNSName
    public let host: DNSName
    private var stepsSent = 0
    private var nextStep: Double
    private var announced = false
    private var lastMulticast: [Record: Double] = [:]
    private var pending: [Record: Double] = [:]
    private var unicastAnswers: [DiscoveryPacket] = []
    private var unicastTokens = Self.unicastRate
    private var tokensAt: Double
    private var recentConflicts: [Double] = []
    private var random: SeededGenerator

    public enum Event: Sendable, Equatable {
        case renamed(from: String, to: String)
    }

    /// Legacy unicast answers allowed per second (and burst).
    static let unicastRate = 10.0

    public init(identity: PeerIdentity, name: String, ttl: UInt32, now: Double, seed: UInt64) {
        self.identity = identity
        self.ttl = ttl
        random = SeededGenerator(seed: seed)
        let address = identity.address.description.split(separator: ".").joined(separator: "-")
        host = DNSName(labels: [Array("pplus2-\(address)-\(identity.port)".utf8), Array("local".utf8)])!
        let base = Self.fitting(name.isEmpty ? "pplus2" : name, suffix: "")
        baseName = base
        instanceName = base
        instance = Self.instanceName(base)
        tokensAt = now
        nextStep = now + random.seconds(in: 0...0.25)  // §8.1: a random delay before the first probe
    }

    /// The name truncated (at a character boundary) so that it and `suffix`
    /// fit in one 63-byte label.
    static func fitting(_ name: String, suffix: String) -> String {
        var kept = ""
        for character in name {
            guard kept.utf8.count + character.utf8.count + suffix.utf8.count <= DNSName.maxLabelBytes else { break }
            kept.append(character)
        }
        return kept + suffix
    }

    static func instanceName(_ label: String) -> DNSName {
        Discovery.serviceType.prepending(Array(label.utf8))!
    }

    /// When `due` has something to send next.
    public var nextDeadline: Double {
        // A unicast answer is due at once; multicast ones when scheduled.
        let answers = unicastAnswers.isEmpty ? pending.values.min() ?? .infinity : -.infinity
        switch phase {
        case .probing, .announcing: return min(nextStep, answers)
        case .running: return answers
        case .stopped: return .infinity
        }
    }

    // MARK: Sending

    /// The packets due at `now`: probes, announcements, answers.
    public mutating func due(now: Double) -> [DiscoveryPacket] {
        var packets = unicastAnswers
        unicastAnswers.removeAll()
        if phase == .probing && now >= nextStep {
            if stepsSent < 3 {
                packets.append(probe())
                stepsSent += 1
                nextStep = now + 0.25
            } else {
                phase = .announcing
                stepsSent = 0
            }
        }
        if phase == .announcing && now >= nextStep {
            packets.append(response(Record.allCases, now: now))
            announced = true
            stepsSent += 1
            nextStep = now + 1
            if stepsSent == 2 { phase = .running }
        }
        if phase != .probing && phase != .stopped {
            let ready = Record.allCases.filter { (pending[$0] ?? .infinity) <= now }
            if !ready.isEmpty {
                for record in ready { pending[record] = nil }
                packets.append(response(ready, now: now))
            }
        }
        return packets
    }

    /// The goodbye: every record with TTL 0, if they were ever announced.
    public mutating func stop() -> [DiscoveryPacket] {
        defer { phase = .stopped }
        guard announced, phase != .stopped else { return [] }
        let records = Record.allCases.map { record($0, ttl: 0) }
        return [DiscoveryPacket(DNSMessage(flags: DNSMessage.responseFlags, answers: records))]
    }

    private func probe() -> DiscoveryPacket {
        DiscoveryPacket(
            DNSMessage(
                // Without the QU bit: answers come by multicast, which reaches
                // every socket sharing port 5353; a unicast answer would reach
                // only one of them, perhaps not ours.
                questions: [DNSQuestion(name: instance, type: DNSType.any)],
                authorities: probeRecords
            )
        )
    }

    /// The records a probe proposes (cache-flush bit clear in the authority section).
    private var probeRecords: [DNSRecord] {
        [Record.service, .text].map {
            var record = record($0, ttl: ttl)
            record.cacheFlush = false
            return record
        }
    }

    /// A multicast response with `records` as answers and what goes with them.
    private mutating func response(_ records: [Record], now: Double) -> DiscoveryPacket {
        let extra = Set(records.flatMap(\.additional)).subtracting(records)
        for sent in records { lastMulticast[sent] = now }
        return DiscoveryPacket(
            DNSMessage(
                flags: DNSMessage.responseFlags,
                answers: records.map { record($0, ttl: ttl) },
                additionals: Record.allCases.filter(extra.contains).map { record($0, ttl: ttl) }
            )
        )
    }

    func record(_ kind: Record, ttl: UInt32) -> DNSRecord {
        switch kind {
        case .pointer:
            DNSRecord(name: Discovery.serviceType, type: DNSType.ptr, ttl: ttl, data: .ptr(instance))
        case .service:
            DNSRecord(
                name: instance,
                type: DNSType.srv,
                cacheFlush: true,
                ttl: ttl,
                data: .srv(priority: 0, weight: 0, port: identity.port, target: host)
            )
        case .text:
            DNSRecord(name: instance, type: DNSType.txt, cacheFlush: true, ttl: ttl, data: .txt(Discovery.txt))
        case .address:
            DNSRecord(name: host, type: DNSType.a, cacheFlush: true, ttl: ttl, data: .a(identity.address))
        case .enumeration:
            DNSRecord(
                name: Discovery.serviceEnumeration,
                type: DNSType.ptr,
                ttl: ttl,
                data: .ptr(Discovery.serviceType)
            )
        }
    }

    // MARK: Receiving

    /// Takes one received packet: a response may reveal a conflict, a query
    /// may need an answer (given later by `due`).
    public mutating func handle(
        _ message: DNSMessage,
        from source: IPv4Address,
        port: UInt16,
        now: Double
    ) -> Event? {
        guard message.opcode == 0, message.responseCode == 0, phase != .stopped else { return nil }
        if message.isResponse {
            return conflicts(in: message.answers + message.additionals) ? rename(now: now) : nil
        }
        if phase == .probing {
            settleSimultaneousProbe(message, now: now)
            return nil
        }
        answer(message, from: source, port: port, now: now)
        return nil
    }

    /// Whether a response holds, under our instance name, a live SRV or TXT
    /// record with other data than ours. Our own packets, looped back, do not.
    private func conflicts(in records: [DNSRecord]) -> Bool {
        let ours = [record(.service, ttl: ttl), record(.text, ttl: ttl)]
        return records.contains { theirs in
            theirs.ttl > 0 && theirs.name == instance
                && ours.contains { $0.type == theirs.type && $0.data != theirs.data }
        }
    }

    private mutating func rename(now: Double) -> Event {
        let old = instanceName
        renames += 1
        instanceName = Self.fitting(baseName, suffix: " (\(renames + 1))")
        instance = Self.instanceName(instanceName)
        // §9: more than 15 conflicts in 10 s, and the next probe waits 5 s.
        recentConflicts = recentConflicts.filter { $0 > now - 10 } + [now]
        restartProbing(at: now + (recentConflicts.count > 15 ? 5 : random.seconds(in: 0...0.25)))
        return .renamed(from: old, to: instanceName)
    }

    private mutating func restartProbing(at time: Double) {
        phase = .probing
        stepsSent = 0
        nextStep = time
        pending.removeAll()
    }

    /// §8.2: another host probes the same name while we do. Records are
    /// compared as (class, type, data), sorted; the host whose records come
    /// first lexicographically loses, waits one second, and probes again.
    private mutating func settleSimultaneousProbe(_ message: DNSMessage, now: Double) {
        let theirs = message.authorities.filter { $0.name == instance }
        guard !theirs.isEmpty, message.questions.contains(where: { $0.name == instance }) else { return }
        func keys(_ records: [DNSRecord]) -> [[UInt8]] {
            records.map { [0, 1, UInt8($0.type >> 8), UInt8($0.type & 0xFF)] + $0.canonicalData }
                .sorted { $0.lexicographicallyPrecedes($1) }
        }
        let ours = keys(probeRecords)
        let other = keys(theirs)
        guard ours != other else { return }  // our own probe, looped back
        if ours.lexicographicallyPrecedes(other, by: { $0.lexicographicallyPrecedes($1) }) {
            restartProbing(at: now + 1)
        }
    }

    private mutating func answer(_ message: DNSMessage, from source: IPv4Address, port: UInt16, now: Double) {
        var wanted: [Record] = []
        for question in message.questions {
            let type = question.type
            let any = type == DNSType.any
            if question.name == Discovery.serviceType && (type == DNSType.ptr || any) { wanted.append(.pointer) }
            if question.name == Discovery.serviceEnumeration && (type == DNSType.ptr || any) {
                wanted.append(.enumeration)
            }
            if question.name == instance {
                if type == DNSType.srv || any { wanted.append(.service) }
                if type == DNSType.txt || any { wanted.append(.text) }
            }
            if question.name == host && (type == DNSType.a || any) { wanted.append(.address) }
        }
        // §7.1 known-answer suppression: the asker has it with at least half its TTL.
        let known = message.answers.filter { $0.ttl >= ttl / 2 }
        wanted = Record.allCases.filter { kind in
            guard wanted.contains(kind) else { return false }
            let own = record(kind, ttl: ttl)
            return !known.contains { $0.name == own.name && $0.type == own.type && $0.data == own.data }
        }
        guard !wanted.isEmpty else { return }

        if port != Discovery.port {
            answerUnicast(message, wanted, to: source, port: port, now: now)
            return
        }
        let isProbe = !message.authorities.isEmpty
        for kind in wanted {
            var at = now + (kind.isShared ? random.seconds(in: 0.02...0.12) : 0)
            if let last = lastMulticast[kind] { at = max(at, last + (isProbe ? 0.25 : 1)) }
            pending[kind] = min(pending[kind] ?? .infinity, at)
        }
    }

    /// §6.7 legacy unicast: a plain DNS client (`dig -p 5353 @224.0.0.251`)
    /// gets its answer to its own port, with its id, its questions, TTL <= 10.
    private mutating func answerUnicast(
        _ message: DNSMessage,
        _ wanted: [Record],
        to source: IPv4Address,
        port: UInt16,
        now: Double
    ) {
        unicastTokens = min(Self.unicastRate, unicastTokens + (now - tokensAt) * Self.unicastRate)
        tokensAt = now
        guard unicastTokens >= 1, source.isUnicastDestination else { return }
        unicastTokens -= 1
        func legacy(_ kind: Record) -> DNSRecord {
            var record = record(kind, ttl: min(ttl, 10))
            record.cacheFlush = false
            return record
        }
        let extra = Set(wanted.flatMap(\.additional)).subtracting(wanted)
        let reply = DNSMessage(
            id: message.id,
            flags: DNSMessage.responseFlags,
            questions: Array(message.questions.prefix(8)),
            answers: wanted.map(legacy),
            additionals: Record.allCases.filter(extra.contains).map(legacy)
        )
        unicastAnswers.append(DiscoveryPacket(reply, to: .unicast(source, port: port)))
    }
}
