extension PeerTable {
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
