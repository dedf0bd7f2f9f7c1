/// The listening half of LAN discovery: finds the instances of
/// `_pplus2._tcp.local.` on the link and turns each into a peer identity.
///
/// An instance resolves in three steps: its PTR (`_pplus2._tcp.local. PTR
/// <instance>`), its SRV (port and host name) and the host's A record. The
/// address and port then go through the same strict identity rules as gossip
/// (`PeerIdentity`): no 0.0.0.0, multicast or broadcast address, port 1-65533.
/// A TXT record with a `v=` other than `v=1` marks a future, incompatible
/// wire: that instance is ignored.
///
/// Manners (RFC 6762 §5.2, §7.1, §10): the browse query is repeated at growing
/// intervals (1 s, 2 s, 4 s... up to an hour) and lists the instances already
/// known (known-answer suppression); a record is asked again at 80, 85, 90 and
/// 95 % of its TTL, and forgotten at 100 %; a goodbye (TTL 0) ends it one
/// second later. What a packet can make it remember is bounded: at most
/// `maxInstances` instances, one SRV each, one A record per SRV target; TTLs
/// over `Discovery.maxTTL` are cut to it.
public struct MulticastDNSBrowser: Sendable {
    public enum LossReason: String, Sendable {
        case goodbye = "said goodbye"
        case expired = "expired"
        case changed = "changed address"
    }

    public enum Event: Sendable, Equatable {
        case found(PeerIdentity, instance: String)
        case lost(PeerIdentity, instance: String, reason: LossReason)
    }

    public static let maxInstances = 256
    /// Tries to resolve an instance's SRV or A record before waiting for its
    /// next refresh.
    static let maxResolveTries = 3
    static let maxQueryInterval = 3600.0
    /// Questions and known answers in one query, to keep it in one small packet.
    static let maxQuestions = 24
    static let maxKnownAnswers = 24

    /// A cached record's lifetime.
    struct Lifetime: Sendable {
        var received: Double
        var ttl: Double
        /// Cache-maintenance queries sent for it (at 80, 85, 90, 95 %).
        var refreshes = 0
        /// 0-2 % of the TTL added to each refresh point (§5.2), so that
        /// peers do not all ask at once.
        var jitter: Double
        var saidGoodbye = false

        var expires: Double { received + ttl }
        var nextRefresh: Double {
            refreshes < 4 && !saidGoodbye ? received + ttl * (0.80 + 0.05 * Double(refreshes) + jitter) : .infinity
        }
    }

    struct Instance: Sendable {
        var label: String
        var pointer: Lifetime
        var service: (port: UInt16, target: DNSName, lifetime: Lifetime)?
        var compatible = true
        var resolved: PeerIdentity?
        var lastAsked = -Double.infinity
        var tries = 0
    }

    private var instances: [DNSName: Instance] = [:]
    private var addresses: [DNSName: (address: IPv4Address, lifetime: Lifetime)] = [:]
    private var nextQuery: Double
    private var queryInterval = 1.0
    private var random: SeededGenerator
    /// Instances not tracked because `maxInstances` were.
    public private(set) var ignoredInstances = 0

    public init(now: Double, seed: UInt64) {
        random = SeededGenerator(seed: seed)
        nextQuery = now + random.seconds(in: 0.02...0.12)
    }

    /// The resolved instances: identity and instance name.
    public var resolved: [(identity: PeerIdentity, instance: String)] {
        instances.values.compactMap { instance in instance.resolved.map { ($0, instance.label) } }
    }

    public var trackedCount: Int { instances.count }

    // MARK: Receiving

    /// Takes one received packet; returns the peers found or lost because of it.
    public mutating func handle(_ message: DNSMessage, now: Double) -> [Event] {
        guard message.isResponse, message.opcode == 0, message.responseCode == 0 else { return [] }
        let records = message.answers + message.additionals
        // Pointers first, then what they point to: one packet usually holds all.
        for record in records where record.type == DNSType.ptr && record.name == Discovery.serviceType {
            guard case .ptr(let name) = record.data, name.parent == Discovery.serviceType else { continue }
            if record.ttl == 0 {
                instances[name]?.pointer.sayGoodbye(now: now)
            } else if instances[name] != nil {
                instances[name]!.pointer = lifetime(record, now: now)
            } else if instances.count < Self.maxInstances {
                let label = DNSName.printable(name.labels[0])
                instances[name] = Instance(label: label, pointer: lifetime(record, now: now))
            } else {
                ignoredInstances += 1
            }
        }
        for record in records where instances[record.name] != nil {
            switch (record.type, record.data) {
            case (DNSType.srv, .srv(_, _, let port, let target)):
                if record.ttl == 0 {
                    instances[record.name]!.service?.lifetime.sayGoodbye(now: now)
                } else {
                    instances[record.name]!.service = (port, target, lifetime(record, now: now))
                }
            case (DNSType.txt, .txt(let strings)) where record.ttl > 0:
                instances[record.name]!.compatible = Self.isCompatible(strings)
            default: break
            }
        }
        let targets = Set(instances.values.compactMap { $0.service?.target })
        for record in records where record.type == DNSType.a && targets.contains(record.name) {
            guard case .a(let address) = record.data else { continue }
            if record.ttl == 0 {
                addresses[record.name]?.lifetime.sayGoodbye(now: now)
            } else {
                addresses[record.name] = (address, lifetime(record, now: now))
            }
        }
        let changes = resolveAll()
        return settled(changes)
    }

    /// Two instances may name the same peer (a peer renamed after a conflict
    /// leaves its old name in caches until it expires; a proxy may publish for
    /// a peer that also announces itself): a peer is lost only when no
    /// instance names it any more.
    private func settled(_ events: [Event]) -> [Event] {
        let alive = Set(instances.values.compactMap(\.resolved))
        return events.filter { event in
            if case .lost(let identity, _, _) = event { return !alive.contains(identity) }
            return true
        }
    }

    /// TXT keys are case-insensitive; only `v=1` (or no `v=`) is this wire.
    static func isCompatible(_ strings: [[UInt8]]) -> Bool {
        for string in strings {
            let text = String(decoding: string, as: UTF8.self)
            if text.lowercased().hasPrefix("v=") { return text.dropFirst(2) == "1" }
        }
        return true
    }

    private mutating func lifetime(_ record: DNSRecord, now: Double) -> Lifetime {
        Lifetime(
            received: now,
            ttl: Double(min(record.ttl, Discovery.maxTTL)),
            jitter: random.seconds(in: 0...0.02)
        )
    }

    /// Recomputes each instance's identity and reports the changes.
    private mutating func resolveAll() -> [Event] {
        var events: [Event] = []
        for (name, instance) in instances {
            var identity: PeerIdentity?
            if instance.compatible, let service = instance.service, let host = addresses[service.target] {
                identity = PeerIdentity(address: host.address, port: service.port)
            }
            guard identity != instance.resolved else { continue }
            if let old = instance.resolved {
                events.append(.lost(old, instance: instance.label, reason: .changed))
            }
            if let identity { events.append(.found(identity, instance: instance.label)) }
            instances[name]!.resolved = identity
            instances[name]!.tries = 0
        }
        return events
    }

    // MARK: Time passing

    /// When `due` has something to do next.
    public var nextDeadline: Double {
        var deadline = nextQuery
        for instance in instances.values {
            deadline = min(deadline, instance.pointer.expires, instance.pointer.nextRefresh)
            if let service = instance.service {
                deadline = min(deadline, service.lifetime.expires, service.lifetime.nextRefresh)
            }
            if needsResolving(instance) { deadline = min(deadline, instance.lastAsked + 1) }
        }
        for host in addresses.values { deadline = min(deadline, host.lifetime.expires, host.lifetime.nextRefresh) }
        return deadline
    }

    private func needsResolving(_ instance: Instance) -> Bool {
        instance.resolved == nil && instance.compatible && instance.tries < Self.maxResolveTries
    }

    /// Forgets what expired (reporting the peers lost) and returns the query
    /// due at `now`, if any.
    public mutating func due(now: Double) -> (events: [Event], query: DiscoveryPacket?) {
        let expired = expire(now: now)  // first: `settled` must see the instances after it
        let events = settled(expired)
        var questions: [DNSQuestion] = []
        func ask(_ name: DNSName, _ type: UInt16) {
            let question = DNSQuestion(name: name, type: type)
            if !questions.contains(question) && questions.count < Self.maxQuestions { questions.append(question) }
        }
        var browsing = false
        if now >= nextQuery {
            browsing = true
            ask(Discovery.serviceType, DNSType.ptr)
            nextQuery = now + queryInterval
            queryInterval = min(queryInterval * 2, Self.maxQueryInterval)
        }
        for (name, instance) in instances {
            if now >= instance.pointer.nextRefresh {
                instances[name]!.pointer.refreshes += 1
                browsing = true
                ask(Discovery.serviceType, DNSType.ptr)
            }
            if let service = instance.service, now >= service.lifetime.nextRefresh {
                instances[name]!.service!.lifetime.refreshes += 1
                ask(name, DNSType.srv)
            }
            if needsResolving(instance) && now >= instance.lastAsked + 1 {
                instances[name]!.lastAsked = now
                instances[name]!.tries += 1
                if let service = instance.service {
                    ask(service.target, DNSType.a)
                } else {
                    ask(name, DNSType.srv)
                    ask(name, DNSType.txt)
                }
            }
        }
        for (host, entry) in addresses where now >= entry.lifetime.nextRefresh {
            addresses[host]!.lifetime.refreshes += 1
            ask(host, DNSType.a)
        }
        guard !questions.isEmpty else { return (events, nil) }
        // Known answers: the pointers we hold with more than half their TTL left.
        var known: [DNSRecord] = []
        if browsing {
            for (name, instance) in instances where known.count < Self.maxKnownAnswers {
                let left = instance.pointer.expires - now
                guard !instance.pointer.saidGoodbye, left > instance.pointer.ttl / 2 else { continue }
                known.append(
                    DNSRecord(name: Discovery.serviceType, type: DNSType.ptr, ttl: UInt32(left), data: .ptr(name))
                )
            }
        }
        return (events, DiscoveryPacket(DNSMessage(questions: questions, answers: known)))
    }

    private mutating func expire(now: Double) -> [Event] {
        var events: [Event] = []
        var goodbyes: Set<DNSName> = []
        for (host, entry) in addresses where entry.lifetime.expires <= now {
            if entry.lifetime.saidGoodbye { goodbyes.insert(host) }
            addresses[host] = nil
        }
        for (name, instance) in instances {
            let service = instance.service?.lifetime
            let pointerGone = instance.pointer.expires <= now
            let serviceGone = service.map { $0.expires <= now } ?? false
            let hostGone = instance.service.map { addresses[$0.target] == nil } ?? false
            guard pointerGone || serviceGone || hostGone && instance.resolved != nil else { continue }
            let saidGoodbye =
                (pointerGone && instance.pointer.saidGoodbye) || (serviceGone && service!.saidGoodbye)
                || instance.service.map { goodbyes.contains($0.target) } ?? false
            if let identity = instance.resolved {
                events.append(.lost(identity, instance: instance.label, reason: saidGoodbye ? .goodbye : .expired))
            }
            if pointerGone {
                instances[name] = nil
            } else {
                if serviceGone { instances[name]!.service = nil }
                instances[name]!.resolved = nil
                instances[name]!.tries = 0
            }
        }
        // Addresses no instance points to any more are not kept.
        let targets = Set(instances.values.compactMap { $0.service?.target })
        addresses = addresses.filter { targets.contains($0.key) }
        return events
    }
}

extension MulticastDNSBrowser.Lifetime {
    /// RFC 6762 §10.1: a record with TTL 0 is kept one more second.
    fileprivate mutating func sayGoodbye(now: Double) {
        received = now
        ttl = 1
        saidGoodbye = true
    }
}
