// What the table hands out: the list an answer relays, the peers a search asks.

extension PeerTable {
    /// The list to send in an answer: the peers whose last contact did not
    /// fail, never the caller nor ourselves, in learning order: every verified
    /// one, and at most `maxUnverifiedRelayed` unverified ones, taken in turn
    /// from each source. So junk travels no further than that, however many
    /// sources (honest neighbours relaying it among them) taught it. Each
    /// answer relays the next unverified ones in that turn, so over a few
    /// answers every known peer is passed on: in a large swarm the peers
    /// learned last are not held back until this peer has contacted them.
    public mutating func answer(excluding caller: PeerIdentity?) -> [PeerIdentity] {
        let turn = inTurnBySource { entry in
            !entry.isVerified && entry.consecutiveFailures == 0 && entry.identity != caller
        }
        let limit = policy.maxUnverifiedRelayed
        let start = turn.count > limit ? relayCursor % turn.count : 0
        let relayed = Set((0..<min(limit, turn.count)).map { turn[(start + $0) % turn.count] })
        relayCursor = turn.count > limit ? start + limit : 0
        return entries.indices.compactMap { index in
            let entry = entries[index]
            guard entry.consecutiveFailures == 0, entry.identity != caller else { return nil }
            return entry.isVerified || relayed.contains(index) ? entry.identity : nil
        }
    }

    /// The indexes of entries that pass `include`, taken in turn from each
    /// source that taught them (a source's junk gets its share, not all of
    /// it), in learning order within each.
    func inTurnBySource(where include: (Entry) -> Bool) -> [Int] {
        var bySource: [Source?: [Int]] = [:]
        var sources: [Source?] = []
        for (index, entry) in entries.enumerated() where include(entry) {
            if bySource[entry.source] == nil { sources.append(entry.source) }
            bySource[entry.source, default: []].append(index)
        }
        var turn: [Int] = []
        var round = 0
        while sources.contains(where: { bySource[$0]!.count > round }) {
            for source in sources where bySource[source]!.count > round {
                turn.append(bySource[source]![round])
            }
            round += 1
        }
        return turn
    }

    /// The peers a search asks, in learning order (the order it lists them):
    /// every verified or trusted peer (bootstrap, saved, discovered: this
    /// peer was told of them, not by a stranger) and at most
    /// `unverifiedBudget` of those a stranger claimed that are not failing,
    /// taken in turn from each source that taught them (so one source's junk
    /// gets its share of the budget, not all of it); and the order to ask them
    /// in, trusted ones first, so a search's deadline cuts the others.
    public func searchPlan(unverifiedBudget: Int) -> (peers: [PeerIdentity], askOrder: [Int]) {
        let picked = Set(inTurnBySource { !$0.isTrusted && $0.consecutiveFailures == 0 }.prefix(unverifiedBudget))
        let chosen = entries.indices.filter { entries[$0].isTrusted || picked.contains($0) }
        let trusted = chosen.indices.filter { entries[chosen[$0]].isTrusted }
        let order = trusted + chosen.indices.filter { !entries[chosen[$0]].isTrusted }
        return (chosen.map { entries[$0].identity }, order)
    }
}
