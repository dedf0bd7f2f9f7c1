extension PeerTable {
    /// The peers a search asks, in learning order (the order it lists them):
    /// every verified or first-hand peer (bootstrap, saved, discovered: this
    /// peer was told of them, not by another peer) and at most
    /// `unverifiedBudget` of those heard of second-hand that are not failing,
    /// taken in turn from each source that taught them (so one source's junk
    /// gets its share of the budget, not all of it); and the order to ask them
    /// in, trusted ones first, so a search's deadline cuts the others.
    public func searchPlan(unverifiedBudget: Int) -> (peers: [PeerIdentity], askOrder: [Int]) {
        var bySource: [PeerIdentity?: [Int]] = [:]
        var sources: [PeerIdentity?] = []
        for (index, entry) in entries.enumerated() where !entry.isTrusted && entry.consecutiveFailures == 0 {
            if bySource[entry.source] == nil { sources.append(entry.source) }
            bySource[entry.source, default: []].append(index)
        }
        var picked = Set<Int>()
        var round = 0
        while picked.count < unverifiedBudget, sources.contains(where: { bySource[$0]!.count > round }) {
            for source in sources where picked.count < unverifiedBudget && bySource[source]!.count > round {
                picked.insert(bySource[source]![round])
            }
            round += 1
        }
        let chosen = entries.indices.filter { entries[$0].isTrusted || picked.contains($0) }
        let trusted = chosen.indices.filter { entries[chosen[$0]].isTrusted }
        let order = trusted + chosen.indices.filter { !entries[chosen[$0]].isTrusted }
        return (chosen.map { entries[$0].identity }, order)
    }
}
