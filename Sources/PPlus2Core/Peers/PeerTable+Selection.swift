// What the table hands out: the list an answer relays, the peers a search asks.

extension PeerTable {
    /// The list to send in an answer: the peers whose last contact did not
    /// fail, never the caller nor ourselves, in learning order: every verified
    /// one, and at most `maxUnverifiedRelayed` unverified ones, taken in turn
    /// from each source. So junk travels no further than that, however many
    /// sources (honest neighbours relaying it among them) taught it.
    public func answer(excluding caller: PeerIdentity?) -> [PeerIdentity] {
        let relayed = inTurnBySource(limit: policy.maxUnverifiedRelayed) { entry in
            !entry.isVerified && entry.consecutiveFailures == 0 && entry.identity != caller
        }
        return entries.indices.compactMap { index in
            let entry = entries[index]
            guard entry.consecutiveFailures == 0, entry.identity != caller else { return nil }
            return entry.isVerified || relayed.contains(index) ? entry.identity : nil
        }
    }

    /// At most `limit` indexes of entries that pass `include`, taken in turn
    /// from each source that taught them (a source's junk gets its share,
    /// not all of it), in learning order within each.
    func inTurnBySource(limit: Int, where include: (Entry) -> Bool) -> Set<Int> {
        var bySource: [Source?: [Int]] = [:]
        var sources: [Source?] = []
        for (index, entry) in entries.enumerated() where include(entry) {
            if bySource[entry.source] == nil { sources.append(entry.source) }
            bySource[entry.source, default: []].append(index)
        }
        var picked = Set<Int>()
        var round = 0
        while picked.count < limit, sources.contains(where: { bySource[$0]!.count > round }) {
            for source in sources where picked.count < limit && bySource[source]!.count > round {
                picked.insert(bySource[source]![round])
            }
            round += 1
        }
        return picked
    }

    /// The peers a search asks, in learning order (the order it lists them):
    /// every verified or trusted peer (bootstrap, saved, discovered: this
    /// peer was told of them, not by a stranger) and at most
    /// `unverifiedBudget` of those a stranger claimed that are not failing,
    /// taken in turn from each source that taught them (so one source's junk
    /// gets its share of the budget, not all of it); and the order to ask them
    /// in, trusted ones first, so a search's deadline cuts the others.
    public func searchPlan(unverifiedBudget: Int) -> (peers: [PeerIdentity], askOrder: [Int]) {
        let picked = inTurnBySource(limit: unverifiedBudget) { !$0.isTrusted && $0.consecutiveFailures == 0 }
        let chosen = entries.indices.filter { entries[$0].isTrusted || picked.contains($0) }
        let trusted = chosen.indices.filter { entries[chosen[$0]].isTrusted }
        let order = trusted + chosen.indices.filter { !entries[chosen[$0]].isTrusted }
        return (chosen.map { entries[$0].identity }, order)
    }
}
