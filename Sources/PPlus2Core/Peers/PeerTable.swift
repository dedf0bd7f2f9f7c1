/// The rules of a peer's list of known peers, as a pure value.
///
/// No clocks and no locks here: every call that depends on time takes `now`
/// (monotonic seconds), and the node wraps the table in a mutex. The table
/// - keeps peers in the order it learned them (the order a search lists them);
/// - holds at most `capacity` peers, never a duplicate, never the peer itself;
/// - walks its peers for gossip, new ones first, then in turn, skipping those
///   in back-off;
/// - drops a peer after `dropAfterFailures` failed contacts in a row, except a
///   bootstrap address, which is kept and retried with growing back-off;
/// - does not learn a dropped peer again second-hand for `quarantineSeconds`
///   (its live neighbours would keep teaching it back), though a peer that
///   contacts us itself is welcome at once; a peer heard of second-hand that
///   never answered is not quarantined (in a swarm started all at once it
///   may simply not have been listening yet);
/// - keeps poison out (Bitcoin Core's address manager is the model): a peer
///   is *verified* only once it answered a contact of ours; anything else is
///   a claim. A caller's own identity is believed first-hand only when its
///   address is the caller's source address, and for at most
///   `maxClaimsPerAddress` identities an address; any other claim is
///   second-hand news from that address. One source (a peer whose answer we
///   read, or a caller's address) has at most its quota of unverified peers
///   in the table (`Policy.quota(of:)`: 64 for a caller's address, a
///   quarter of the table for a peer we asked); a first-hand newcomer that finds the table full, or
///   second-hand news from a source that holds fewer than the source that
///   holds the most, pushes out an unverified peer of that heaviest source,
///   never a verified one;
///   an answer relays every verified peer and at most `maxUnverifiedRelayed`
///   unverified ones in all, taken in turn from each source, so junk that
///   comes back through honest neighbours stays bounded; gossip spends every
///   eighth contact on a verified peer alone, so junk can never take every
///   contact (`nextToContact`).
public struct PeerTable: Sendable {
    public struct Policy: Sendable {
        public var capacity = 1000
        public var dropAfterFailures = 3
        /// Unverified peers one caller's address may have in the table at once.
        public var maxPerSource = 64
        /// Unverified peers the answer of one peer we contacted may have in
        /// the table at once, at most a quarter of the capacity: more than a
        /// caller's, since we chose to ask it and it answered (a caller can be
        /// anyone, from any address). What lets a large swarm converge: a
        /// peer of 500 learns its neighbours from two or three answers.
        public var maxPerAnsweringPeer = 256
        /// Identities one caller address is believed for first-hand (a machine
        /// may run several peers): the contract's "a few, at most 8".
        public var maxClaimsPerAddress = 8
        /// Unverified peers one answer relays, whatever their sources.
        public var maxUnverifiedRelayed = 512
        /// Seconds before a dropped peer may be learned second-hand again.
        public var quarantineSeconds: Double
        /// Back-off after the first failure; it doubles with each further one.
        public var firstBackoffSeconds: Double
        /// The longest back-off between two contacts of a failing bootstrap.
        public var maxBackoffSeconds: Double

        /// The contract's defaults for a gossip interval: back-off starts at one
        /// interval, quarantine lasts 10 intervals and at least 60 s.
        public init(gossipInterval: Double, capacity: Int = 1000) {
            self.capacity = capacity
            self.quarantineSeconds = max(10 * gossipInterval, 60)
            self.firstBackoffSeconds = gossipInterval
            self.maxBackoffSeconds = max(32 * gossipInterval, 60)
        }

        /// The unverified peers `source` may have in the table at once.
        public func quota(of source: Source) -> Int {
            switch source {
            case .peer: max(maxPerSource, min(maxPerAnsweringPeer, capacity / 4))
            case .caller: maxPerSource
            }
        }
    }

    /// How many dropped peers are remembered for display.
    public static let droppedMemory = 50

    public enum State: String, Sendable {
        /// Known, not contacted yet.
        case new
        /// The last contact succeeded.
        case alive
        /// The last contact failed; it is retried after a back-off.
        case failing
    }

    public struct Entry: Sendable, Equatable {
        public let identity: PeerIdentity
        public let origin: Origin
        public internal(set) var consecutiveFailures = 0
        public internal(set) var lastContact: Double?
        public internal(set) var lastSuccess: Double?
        /// Not contacted by gossip before this time.
        public internal(set) var notBefore: Double = 0
        /// Seen on the LAN by discovery, whatever taught it first.
        public internal(set) var discovered = false
        /// Whose word taught it, while it is unverified: the peer whose answer
        /// named it, or the address of the caller that claimed it; nil once it
        /// answered us, and for a bootstrap, saved or discovered peer.
        public internal(set) var source: Source?

        /// It answered a contact of ours: it exists and speaks P+2. A claim,
        /// first-hand or not, never verifies a peer.
        public var isVerified: Bool { lastSuccess != nil }

        /// Verified, or not heard of from a stranger (a bootstrap, a saved or a
        /// discovered peer): a search asks it without spending its budget.
        public var isTrusted: Bool { isVerified || source == nil }

        /// A peer that contacted us is alive: it just proved it.
        public var state: State {
            if consecutiveFailures > 0 { return .failing }
            return isVerified ? .alive : .new
        }
    }

    public let policy: Policy
    public let selfFilter: SelfFilter
    public private(set) var entries: [Entry] = []
    /// The most recently dropped peers, newest last (bounded).
    public private(set) var dropped: [DroppedPeer] = []
    private var positions: [PeerIdentity: Int] = [:]
    private var quarantine: [PeerIdentity: Double] = [:]
    /// Unverified peers in the table, by the source that taught them (bounded by the table).
    private var perSource: [Source: Int] = [:]
    /// Gossip contacts so far: they take turns (`nextToContact`).
    private var contacts = 0
    /// Where the next answer's unverified peers start in the turn by source.
    var relayCursor = 0

    public init(policy: Policy, selfFilter: SelfFilter) {
        self.policy = policy
        self.selfFilter = selfFilter
    }

    public var count: Int { entries.count }

    public func contains(_ peer: PeerIdentity) -> Bool { positions[peer] != nil }

    public func entry(for peer: PeerIdentity) -> Entry? {
        positions[peer].map { entries[$0] }
    }

    /// The known peers in the order they were learned.
    public var peers: [PeerIdentity] { entries.map(\.identity) }

    /// Adds a `--bootstrap` address; it is never dropped.
    @discardableResult
    public mutating func addBootstrap(_ peer: PeerIdentity) -> Bool {
        quarantine[peer] = nil
        return insert(peer, origin: .bootstrap)
    }

    /// Peers from the saved list of an earlier run. Returns how many were new.
    @discardableResult
    public mutating func addSaved(_ peers: some Sequence<PeerIdentity>) -> Int {
        peers.reduce(0) { count, peer in count + (insert(peer, origin: .saved) ? 1 : 0) }
    }

    /// A caller at `caller` sent `peer` as its identity. Believed first-hand
    /// when its address is the caller's (learned at once, quarantine or not,
    /// and if known, due for a contact now), for at most
    /// `maxClaimsPerAddress` identities an address; any other claim is
    /// second-hand news from the caller's address. Either way the peer stays
    /// unverified until it answers a contact of ours. Returns true if new.
    @discardableResult
    public mutating func learnClaim(_ peer: PeerIdentity, from caller: IPv4Address, now: Double) -> Bool {
        guard !selfFilter.isSelf(peer) else { return false }
        let source = Source.caller(caller)
        guard peer.address == caller else { return learnSecondHand([peer], from: source, now: now) > 0 }
        quarantine[peer] = nil
        if let index = positions[peer] {
            entries[index].notBefore = min(entries[index].notBefore, now)
            return false
        }
        let claims = entries.count { $0.origin == .contactedUs && $0.source == source }
        return claims < policy.maxClaimsPerAddress && perSource[source, default: 0] < policy.quota(of: source)
            && insert(peer, origin: .contactedUs, source: source)
    }

    /// A peer found on the LAN by discovery: first-hand news too (it
    /// announced itself), so it is learned at once, quarantine or not.
    @discardableResult
    public mutating func learnDiscovered(_ peer: PeerIdentity) -> Bool {
        guard !selfFilter.isSelf(peer) else { return false }
        quarantine[peer] = nil
        let added = insert(peer, origin: .discovered)
        if let index = positions[peer] { entries[index].discovered = true }
        return added
    }

    /// A peer that discovery says left (goodbye) or vanished (TTL expired):
    /// dropped and quarantined like a peer that failed, unless it is a
    /// bootstrap. Returns true if it was dropped.
    @discardableResult
    public mutating func forget(_ peer: PeerIdentity, reason: DropReason, now: Double) -> Bool {
        guard let index = positions[peer], entries[index].origin != .bootstrap else { return false }
        drop(at: index, reason: reason, now: now)
        return true
    }

    /// Peers named in `source`'s list (nil: a source not to count, such as a
    /// test's). Unverified, and at most `maxPerSource` of them from one source
    /// at once. Returns how many were new.
    @discardableResult
    public mutating func learnSecondHand(
        _ peers: some Sequence<PeerIdentity>,
        from source: Source? = nil,
        now: Double
    ) -> Int {
        var added = 0
        for peer in peers {
            if let source, perSource[source, default: 0] >= policy.quota(of: source) { break }
            if let until = quarantine[peer] {
                if now < until { continue }
                quarantine[peer] = nil
            }
            guard positions[peer] == nil, insert(peer, origin: .gossip, source: source) else { continue }
            added += 1
        }
        return added
    }

    /// The next peer to contact, skipping peers in back-off; nil if none is due.
    ///
    /// Peers never contacted come first, the most recently learned first: a
    /// peer just learned second-hand is likely far away in the network and
    /// knows what we do not, and contacting it teaches it about us. Then the
    /// known peers in turn, the least recently contacted first. (Walking the
    /// list in learning order instead needs about 19 intervals for a chain of
    /// 40 peers to converge; this order, about 5: see scripts/bench.)
    public mutating func nextToContact(now: Double) -> PeerIdentity? {
        contacts += 1
        // Six contacts in eight go to a peer heard of second-hand (likelier far
        // away than a caller, which has had our list: callers first, a swarm of
        // 40 started at once took 31-40 intervals). Every eighth goes to a
        // verified peer alone: junk, from however many addresses, never takes
        // every contact. The one in between goes to a verified peer or a caller
        // from its own address: callers carry the far side of a swarm (asked
        // after the second-hand peers instead, 40 took 7.3 intervals, median of
        // 10; this way 6.3). Each kind newest never contacted first, else the
        // least recently contacted (the stalest has learned the most).
        let index: Int?
        switch contacts % 8 {
        case 0: index = nextIndex(now: now, [.verified]) ?? nextIndex(now: now, [.claimed, .heardOf])
        case 4: index = nextIndex(now: now, [.verified, .claimed]) ?? nextIndex(now: now, [.heardOf])
        default: index = nextIndex(now: now, [.heardOf]) ?? nextIndex(now: now, [.verified, .claimed])
        }
        guard let index else { return nil }
        markContacting(index, now: now)
        return entries[index].identity
    }

    /// The three kinds of peers the contact order tells apart.
    private enum Kind {
        /// Answered a contact of ours.
        case verified
        /// Claimed itself to us (unverified).
        case claimed
        /// Anything else unverified: heard of from another peer, a bootstrap, saved, discovered.
        case heardOf
    }

    private func kind(of entry: Entry) -> Kind {
        if entry.isVerified { return .verified }
        return entry.origin == .contactedUs ? .claimed : .heardOf
    }

    /// The next due peer of the `wanted` kinds: never contacted first (newest first),
    /// then the least recently contacted.
    private func nextIndex(now: Double, _ wanted: Set<Kind>) -> Int? {
        var oldest: Int?
        for index in entries.indices.reversed()
        where entries[index].notBefore <= now && wanted.contains(kind(of: entries[index])) {
            guard let contacted = entries[index].lastContact else { return index }
            if let current = oldest, entries[current].lastContact! < contacted { continue }
            oldest = index
        }
        return oldest
    }

    /// Records the start of a contact, so the walk moves on even before the
    /// outcome is known.
    private mutating func markContacting(_ index: Int, now: Double) {
        entries[index].lastContact = now
    }

    public mutating func recordSuccess(_ peer: PeerIdentity, now: Double) {
        guard let index = positions[peer] else { return }
        forgetSource(of: index)  // verified: it no longer counts against who taught it
        entries[index].consecutiveFailures = 0
        entries[index].lastContact = now
        entries[index].lastSuccess = now
        entries[index].notBefore = now
    }

    /// Counts a failed contact. Returns true if the peer was dropped.
    @discardableResult
    public mutating func recordFailure(_ peer: PeerIdentity, now: Double) -> Bool {
        guard let index = positions[peer] else { return false }
        entries[index].consecutiveFailures += 1
        entries[index].lastContact = now
        let failures = entries[index].consecutiveFailures
        if failures >= policy.dropAfterFailures && entries[index].origin != .bootstrap {
            drop(at: index, reason: .failedContacts(failures), now: now)
            return true
        }
        let doubling = Double(1 << min(failures - 1, 30))
        let backoff = min(policy.firstBackoffSeconds * doubling, policy.maxBackoffSeconds)
        entries[index].notBefore = now + backoff
        return false
    }

    /// Whether `peer` is dropped and may not be learned second-hand yet.
    public func isQuarantined(_ peer: PeerIdentity, now: Double) -> Bool {
        quarantine[peer].map { now < $0 } ?? false
    }

    private mutating func drop(at index: Int, reason: DropReason, now: Double) {
        let entry = entries[index]
        dropped.append(
            DroppedPeer(
                identity: entry.identity,
                origin: entry.origin,
                lastContact: entry.lastContact,
                reason: reason
            )
        )
        if dropped.count > Self.droppedMemory { dropped.removeFirst() }
        remove(at: index)
        // Quarantine is for a peer that lived and died: its live neighbours would
        // teach it back. One that never answered us (not started yet when a
        // swarm starts at once, or junk) may be taught again, with a fresh count.
        let neverAnswered = entry.lastSuccess == nil && entry.origin == .gossip
        if case .failedContacts = reason, neverAnswered { return }
        quarantine[entry.identity] = now + policy.quarantineSeconds
        pruneQuarantine(now: now)
    }

    /// Adds `peer`, taught by `source` (counted against its quota while the
    /// peer is unverified), making room as the table's rules allow.
    private mutating func insert(_ peer: PeerIdentity, origin: Origin, source: Source? = nil) -> Bool {
        guard positions[peer] == nil, !selfFilter.isSelf(peer) else { return false }
        if entries.count >= policy.capacity {
            // A first-hand peer always finds room: an unverified one makes way.
            // Second-hand news finds room when another source holds more than
            // its own: one source's junk never crowds out the news of others.
            let heaviest = perSource.values.max() ?? 0
            if origin != .gossip || (source.map { heaviest > perSource[$0, default: 0] + 1 } ?? false) {
                evictUnverified()
            }
        }
        guard entries.count < policy.capacity else { return false }
        dropped.removeAll { $0.identity == peer }
        positions[peer] = entries.count
        entries.append(Entry(identity: peer, origin: origin, source: source))
        if let source { perSource[source, default: 0] += 1 }
        return true
    }

    /// Removes the oldest unverified peer of the source that has the most in the table.
    private mutating func evictUnverified() {
        let heaviest = perSource.max { $0.value < $1.value }?.key
        let victim =
            entries.firstIndex { $0.source == heaviest && heaviest != nil }
            ?? entries.firstIndex { !$0.isVerified && $0.origin == .gossip }
        if let victim { remove(at: victim) }
    }

    private mutating func remove(at index: Int) {
        forgetSource(of: index)
        positions[entries[index].identity] = nil
        entries.remove(at: index)
        for position in index..<entries.count { positions[entries[position].identity] = position }
    }

    private mutating func forgetSource(of index: Int) {
        guard let source = entries[index].source else { return }
        entries[index].source = nil
        let left = perSource[source, default: 1] - 1
        perSource[source] = left > 0 ? left : nil
    }

    /// Keeps the quarantine bounded: expired entries go, and it never holds
    /// more than the table's capacity.
    private mutating func pruneQuarantine(now: Double) {
        guard quarantine.count > policy.capacity else { return }
        quarantine = quarantine.filter { $0.value > now }
        while quarantine.count > policy.capacity, let oldest = quarantine.min(by: { $0.value < $1.value }) {
            quarantine[oldest.key] = nil
        }
    }
}
