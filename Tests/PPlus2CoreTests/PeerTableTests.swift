import Testing

@testable import PPlus2Core

@Suite("Peer table rules")
struct PeerTableTests {
    let me = PeerIdentity("10.0.0.1:5000")!

    func makeTable(capacity: Int = 1000, interval: Double = 10) -> PeerTable {
        PeerTable(
            policy: PeerTable.Policy(gossipInterval: interval, capacity: capacity),
            selfFilter: SelfFilter(port: 5000, addresses: [me.address], includesLoopbackRange: true)
        )
    }

    func peer(_ index: Int, port: UInt16 = 6000) -> PeerIdentity {
        PeerIdentity(address: IPv4Address(UInt32(0x0B00_0000) + UInt32(index)), port: port)!
    }

    @Test func staysBoundedAndDeduplicated() {
        var table = makeTable(capacity: 50)
        let many = (0..<500).map { peer($0) }
        let result1 = table.learnSecondHand(many + many, now: 0)
        #expect(result1 == 50)
        #expect(table.count == 50)
        #expect(Set(table.peers).count == 50)
        // Full of peers heard of second-hand: one that contacts us still gets in.
        let result2 = table.learnClaim(peer(999), from: (peer(999)).address, now: 0)
        #expect(result2)
        #expect(table.count == 50 && table.contains(peer(999)))
    }

    @Test func neverHoldsItself() {
        var table = makeTable()
        table.learnSecondHand([me, PeerIdentity("127.0.0.1:5000")!, PeerIdentity("127.8.9.1:5000")!], now: 0)
        let result3 = table.learnClaim(me, from: (me).address, now: 0)
        #expect(!result3)
        let result4 = table.addBootstrap(me)
        #expect(!result4)
        #expect(table.count == 0)
        // Same address, other port: another peer.
        let result5 = table.learnClaim(
            PeerIdentity("127.0.0.1:5003")!,
            from: (PeerIdentity("127.0.0.1:5003")!).address,
            now: 0
        )
        #expect(result5)
        let result6 = table.learnClaim(
            PeerIdentity("10.0.0.1:5001")!,
            from: (PeerIdentity("10.0.0.1:5001")!).address,
            now: 0
        )
        #expect(result6)
        #expect(table.count == 2)
    }

    @Test func keepsLearningOrder() {
        var table = makeTable()
        table.addBootstrap(peer(3))
        table.learnSecondHand([peer(1), peer(2)], now: 0)
        table.learnClaim(peer(0), from: (peer(0)).address, now: 0)
        #expect(table.peers == [peer(3), peer(1), peer(2), peer(0)])
        #expect(table.entry(for: peer(0))?.origin == .contactedUs)
        #expect(table.entry(for: peer(1))?.origin == .gossip)
    }

    @Test func answersWithoutTheCallerNorFailingPeers() {
        var table = makeTable()
        table.learnSecondHand([peer(1), peer(2), peer(3)], now: 0)
        table.recordFailure(peer(2), now: 1)
        #expect(table.answer(excluding: peer(1)) == [peer(3)])
        #expect(table.answer(excluding: nil) == [peer(1), peer(3)])
    }

    @Test func contactsNewPeersNewestFirstThenWalksInTurn() {
        var table = makeTable()
        table.learnSecondHand([peer(1), peer(2), peer(3)], now: 0)
        var walk: [PeerIdentity] = []
        for step in 0..<5 {
            if let next = table.nextToContact(now: Double(step)) { walk.append(next) }
        }
        #expect(walk == [peer(3), peer(2), peer(1), peer(3), peer(2)])
        // A peer learned now is contacted next, before the walk goes on.
        table.learnSecondHand([peer(4)], now: 5)
        #expect(table.nextToContact(now: 5) == peer(4))
        #expect(table.nextToContact(now: 6) == peer(1))
    }

    @Test func skipsPeersInBackOff() {
        var table = makeTable(interval: 10)
        table.learnSecondHand([peer(1), peer(2)], now: 0)
        #expect(table.nextToContact(now: 0) == peer(2))
        table.recordFailure(peer(2), now: 0)
        #expect(table.nextToContact(now: 1) == peer(1))
        #expect(table.nextToContact(now: 2) == peer(1))  // peer 2 waits until t = 10
        #expect(table.nextToContact(now: 10) == peer(2))
    }

    @Test func aPeerThatNeverAnsweredIsDroppedButNotQuarantined() {
        var table = makeTable(interval: 10)
        table.learnSecondHand([peer(1)], now: 0)
        for time in [0.0, 10, 30] { table.recordFailure(peer(1), now: time) }
        #expect(!table.contains(peer(1)))
        #expect(!table.isQuarantined(peer(1), now: 31))
        let relearned = table.learnSecondHand([peer(1)], now: 31)
        #expect(relearned == 1)
        #expect(table.entry(for: peer(1))?.consecutiveFailures == 0)
    }

    @Test func dropsAPeerAfterThreeFailuresAndQuarantinesIt() {
        var table = makeTable(interval: 10)
        table.learnSecondHand([peer(1)], now: 0)
        table.recordSuccess(peer(1), now: 0)  // it lived, then died
        let result7 = table.recordFailure(peer(1), now: 0)
        #expect(!result7)
        #expect(table.entry(for: peer(1))?.state == .failing)
        let result8 = table.recordFailure(peer(1), now: 10)
        #expect(!result8)
        let result9 = table.recordFailure(peer(1), now: 30)
        #expect(result9)
        #expect(!table.contains(peer(1)))
        // Live neighbours cannot teach it back for 10 intervals (100 s)...
        let result10 = table.learnSecondHand([peer(1)], now: 100)
        #expect(result10 == 0)
        #expect(table.isQuarantined(peer(1), now: 100))
        // ...but afterwards they can.
        let result11 = table.learnSecondHand([peer(1)], now: 131)
        #expect(result11 == 1)
    }

    @Test func quarantineLastsAtLeastSixtySeconds() {
        var table = makeTable(interval: 0.1)
        table.learnSecondHand([peer(1)], now: 0)
        table.recordSuccess(peer(1), now: 0)
        for _ in 0..<3 { table.recordFailure(peer(1), now: 0) }
        let result12 = table.learnSecondHand([peer(1)], now: 59)
        #expect(result12 == 0)
        let result13 = table.learnSecondHand([peer(1)], now: 61)
        #expect(result13 == 1)
    }

    @Test func aDroppedPeerThatContactsUsIsWelcomeAtOnce() {
        var table = makeTable()
        table.learnSecondHand([peer(1)], now: 0)
        for _ in 0..<3 { table.recordFailure(peer(1), now: 0) }
        let result14 = table.learnClaim(peer(1), from: peer(1).address, now: 0)
        #expect(result14)
    }

    @Test func aFailingPeerThatContactsUsIsContactedAtOnceNotBelieved() {
        var table = makeTable()
        table.learnSecondHand([peer(1)], now: 0)
        table.recordFailure(peer(1), now: 0)
        #expect(table.answer(excluding: nil).isEmpty)
        let added = table.learnClaim(peer(1), from: peer(1).address, now: 5)
        #expect(!added)
        // A claim verifies nothing: still failing, not relayed, but due for a contact now.
        #expect(table.entry(for: peer(1))?.state == .failing)
        #expect(table.answer(excluding: nil).isEmpty)
        #expect(table.nextToContact(now: 5) == peer(1))
        table.recordSuccess(peer(1), now: 5)
        #expect(table.entry(for: peer(1))?.state == .alive)
        #expect(table.answer(excluding: nil) == [peer(1)])
    }

    @Test func successResetsTheFailureCount() {
        var table = makeTable()
        table.learnSecondHand([peer(1)], now: 0)
        table.recordFailure(peer(1), now: 0)
        table.recordFailure(peer(1), now: 10)
        table.recordSuccess(peer(1), now: 40)
        #expect(table.entry(for: peer(1))?.state == .alive)
        let result15 = table.recordFailure(peer(1), now: 50)
        #expect(!result15)
        #expect(table.contains(peer(1)))
    }

    @Test func keepsABootstrapAndBacksOff() {
        var table = makeTable(interval: 10)
        table.addBootstrap(peer(1))
        var now = 0.0
        var attempts: [Double] = []
        while now < 2000 {
            if table.nextToContact(now: now) == peer(1) {
                attempts.append(now)
                table.recordFailure(peer(1), now: now)
            }
            now += 10
        }
        #expect(table.contains(peer(1)))
        // Gaps double from one interval up to the cap (32 intervals), never below one interval.
        let gaps = zip(attempts.dropFirst(), attempts).map { $0 - $1 }
        #expect(gaps.prefix(6) == [10, 20, 40, 80, 160, 320])
        #expect(gaps.allSatisfy { $0 <= 320 })
    }

    @Test func discoveryTeachesFirstHandAndGoodbyesDrop() {
        var table = makeTable()
        let bob = peer(1)
        // Learned by gossip, then seen on the LAN: marked, origin kept.
        table.learnSecondHand([bob], now: 0)
        let again = table.learnDiscovered(bob)
        #expect(!again)
        #expect(table.entry(for: bob)?.origin == .gossip && table.entry(for: bob)?.discovered == true)
        // Contacted at 3, it says goodbye at 5: dropped, remembered with the
        // reason and its real last contact, quarantined.
        #expect(table.nextToContact(now: 3) == bob)
        table.recordSuccess(bob, now: 3)
        let forgotten = table.forget(bob, reason: .saidGoodbye, now: 5)
        #expect(forgotten)
        #expect(!table.contains(bob))
        #expect(
            table.dropped.last
                == PeerTable.DroppedPeer(
                    identity: bob,
                    origin: .gossip,
                    lastContact: 3,
                    reason: .saidGoodbye
                )
        )
        table.learnSecondHand([bob], now: 6)
        #expect(!table.contains(bob), "neighbours do not teach it back at once")
        // Announcing itself again is first-hand: back at once.
        let back = table.learnDiscovered(bob)
        #expect(back)
        #expect(table.entry(for: bob)?.origin == .discovered)
        // Expiring before any contact: its last contact is "never".
        let expired = table.forget(bob, reason: .expired, now: 7)
        #expect(expired && table.dropped.last?.lastContact == nil)
        _ = table.learnDiscovered(bob)
        // Never ourselves; a bootstrap is never forgotten.
        let selfLearned = table.learnDiscovered(me)
        #expect(!selfLearned)
        table.addBootstrap(peer(2))
        let bootstrapForgotten = table.forget(peer(2), reason: .expired, now: 7)
        #expect(!bootstrapForgotten)
        #expect(table.contains(peer(2)))
    }
}

/// The defences against a peer that teaches junk (Bitcoin Core's address
/// manager is the model): unverified peers are capped per source, first-hand
/// ones always find room, answers relay few unverified peers, gossip gives
/// verified peers every other contact, searches ask verified peers first.
@Suite("Peer table under poisoning")
struct PeerTablePoisoningTests {
    let me = PeerIdentity("10.0.0.1:5000")!

    func makeTable(capacity: Int = 1000) -> PeerTable {
        PeerTable(
            policy: PeerTable.Policy(gossipInterval: 10, capacity: capacity),
            selfFilter: SelfFilter(port: 5000, addresses: [me.address], includesLoopbackRange: true)
        )
    }

    func junk(_ count: Int, from base: UInt32) -> [PeerIdentity] {
        (0..<count).map { PeerIdentity(address: IPv4Address(base + UInt32($0)), port: 7000)! }
    }

    let hostile = PeerIdentity("10.9.9.9:5000")!
    let honest = PeerIdentity("10.8.8.8:5000")!

    @Test func oneSourceFillsOnlyItsShare() {
        var table = makeTable()
        let first = table.learnSecondHand(junk(1000, from: 0x0B00_0000), from: .peer(hostile), now: 0)
        // A peer we asked: a quarter of the table; a caller's address: 64.
        #expect(first == table.policy.quota(of: .peer(hostile)) && first == 250)
        #expect(table.policy.quota(of: .caller(hostile.address)) == 64)
        // Another source still teaches its own.
        let other = table.learnSecondHand(junk(10, from: 0x0C00_0000), from: .peer(honest), now: 0)
        #expect(other == 10)
        // A verified peer no longer counts against its source: room for one more.
        table.recordSuccess(table.peers[0], now: 1)
        let more = table.learnSecondHand(junk(1000, from: 0x0D00_0000), from: .peer(hostile), now: 1)
        #expect(more == 1)
    }

    @Test func aFirstHandPeerAlwaysFindsRoomPushingOutTheHeaviestSource() {
        var table = makeTable(capacity: 100)
        table.learnSecondHand(junk(64, from: 0x0B00_0000), from: .peer(hostile), now: 0)
        table.learnSecondHand(junk(36, from: 0x0C00_0000), from: .peer(honest), now: 0)
        #expect(table.count == 100)
        let added = table.learnClaim(
            PeerIdentity("10.7.7.7:5000")!,
            from: (PeerIdentity("10.7.7.7:5000")!).address,
            now: 1
        )
        #expect(added)
        #expect(table.count == 100)
        #expect(table.contains(PeerIdentity("10.7.7.7:5000")!))
        #expect(!table.contains(junk(1, from: 0x0B00_0000)[0]))  // the heaviest source's oldest went
        #expect(table.contains(junk(1, from: 0x0C00_0000)[0]))
        // Second-hand news from a source that holds fewer than the heaviest
        // pushes out the heaviest's; the heaviest's own news pushes out nothing.
        let fair = table.learnSecondHand(
            junk(5, from: 0x0E00_0000),
            from: .peer(PeerIdentity("10.6.6.6:5000")!),
            now: 1
        )
        #expect(fair == 5 && table.count == 100)
        #expect(table.entries.count { $0.source == .peer(hostile) } == 58)
        #expect(table.entries.count { $0.source == .peer(honest) } == 36)
        #expect(table.learnSecondHand(junk(5, from: 0x0F00_0000), from: .peer(hostile), now: 1) == 0)
    }

    @Test func answersRelayAtMostOneSourcesShareOfItsJunk() {
        var table = makeTable()
        let verified = junk(100, from: 0x0A00_0100)
        for peer in verified {
            table.learnClaim(peer, from: peer.address, now: 0)
            table.recordSuccess(peer, now: 0)
        }
        table.learnSecondHand(junk(1000, from: 0x0B00_0000), from: .peer(hostile), now: 0)
        let answer = table.answer(excluding: nil)
        #expect(Set(verified).isSubset(of: Set(answer)))
        // One source holds at most its share of the table, so that is all it can get relayed.
        #expect(answer.count == 100 + table.policy.quota(of: .peer(hostile)))
    }

    @Test func verifiedPeersGetEveryFourthContact() {
        var table = makeTable()
        table.learnClaim(honest, from: honest.address, now: 0)
        table.recordSuccess(honest, now: 0)
        table.learnSecondHand(junk(64, from: 0x0B00_0000), from: .peer(hostile), now: 0)
        var walk: [PeerIdentity] = []
        for step in 0..<10 {
            if let next = table.nextToContact(now: Double(step)) { walk.append(next) }
        }
        #expect(walk.count == 10)
        #expect(walk.filter { $0 == honest }.count == 2)  // contacts 4 and 8
    }

    /// Peers that called us from their own address share one contact in
    /// eight with verified peers, newest never contacted first; another
    /// eighth stays with verified peers alone, so first-hand claims from many
    /// addresses never take every contact; the other six go to peers heard
    /// of second-hand.
    @Test func callersShareOneTurnInEightAndVerifiedPeersKeepAnother() {
        var table = makeTable()
        table.learnClaim(honest, from: honest.address, now: 0)
        table.recordSuccess(honest, now: 0)
        var callers: [PeerIdentity] = []
        for address in 0..<5 {
            for port in 0..<8 {
                let caller = PeerIdentity(
                    address: IPv4Address(0x0C00_0000 + UInt32(address)),
                    port: UInt16(6000 + port)
                )!
                let learned = table.learnClaim(caller, from: caller.address, now: 0)
                #expect(learned)
                callers.append(caller)
            }
        }
        table.learnSecondHand(junk(64, from: 0x0B00_0000), from: .peer(hostile), now: 0)
        var walk: [PeerIdentity] = []
        for step in 0..<16 {
            if let next = table.nextToContact(now: Double(step)) { walk.append(next) }
        }
        #expect(walk.count == 16)
        #expect(walk[7] == honest && walk[15] == honest, "\(walk)")  // contacts 8 and 16
        #expect(walk[3] == callers.last && walk[11] == callers[callers.count - 2], "the newest caller first")
        let secondHand = walk.indices.filter { $0 % 4 != 3 }.map { walk[$0] }
        #expect(secondHand.allSatisfy { $0.address.value >> 24 == 0x0B }, "\(secondHand)")
    }

    @Test func searchesAskVerifiedPeersFirstAndFewUnverifiedOnes() {
        var table = makeTable()
        table.learnSecondHand(junk(100, from: 0x0B00_0000), from: .peer(hostile), now: 0)
        table.learnClaim(honest, from: honest.address, now: 0)
        table.recordSuccess(honest, now: 0)
        let plan = table.searchPlan(unverifiedBudget: 8)
        #expect(plan.peers.count == 9)
        #expect(plan.peers.last == honest)  // listed in learning order...
        #expect(plan.askOrder.first.map { plan.peers[$0] } == honest)  // ...asked first
        #expect(Set(plan.askOrder) == Set(plan.peers.indices))
        // Bootstraps are asked whatever the budget: the person named them.
        var named = makeTable()
        for peer in junk(100, from: 0x0A00_0300) { named.addBootstrap(peer) }
        #expect(named.count == 100)
        #expect(named.searchPlan(unverifiedBudget: 8).peers.count == 100)
    }

    // MARK: Claims (the contract: checked against the caller's address)

    @Test func aClaimFromAnotherAddressIsSecondHandNewsFromTheCaller() {
        var table = makeTable()
        let claimed = PeerIdentity("10.0.0.9:5000")!
        let caller = IPv4Address(0x0A00_0007)  // 10.0.0.7
        let learned = table.learnClaim(claimed, from: caller, now: 0)
        #expect(learned)
        let entry = table.entry(for: claimed)
        #expect(entry?.origin == .gossip && entry?.source == .caller(caller))
        #expect(entry?.isVerified == false && entry?.isTrusted == false)
    }

    @Test func oneAddressIsBelievedForAFewIdentitiesAndNothingIsVerifiedByAClaim() {
        var table = makeTable()
        let caller = IPv4Address(0x0A00_0007)
        var ownAddress = 0
        for port in 5000..<6500 {
            if table.learnClaim(PeerIdentity(address: caller, port: UInt16(port))!, from: caller, now: 0) {
                ownAddress += 1
            }
        }
        #expect(ownAddress == table.policy.maxClaimsPerAddress)
        // 1,500 made-up identities from the same caller: its share as a source, no more.
        var madeUp = 0
        for claimed in junk(1500, from: 0x0B00_0000) where table.learnClaim(claimed, from: caller, now: 0) {
            madeUp += 1
        }
        #expect(ownAddress + madeUp == table.policy.maxPerSource)
        #expect(table.entries.allSatisfy { !$0.isVerified && $0.state == .new })
        #expect(table.answer(excluding: nil).count <= table.policy.maxUnverifiedRelayed)
    }

    @Test func answersRelayAFewUnverifiedPeersWhateverTheirSources() {
        var table = makeTable()
        table.learnClaim(honest, from: honest.address, now: 0)
        table.recordSuccess(honest, now: 0)
        // Junk through ten honest-looking neighbours, each within its share.
        for source in 0..<10 {
            let neighbour = PeerIdentity(address: IPv4Address(0x0A01_0000 + UInt32(source)), port: 5000)!
            table.learnSecondHand(junk(64, from: 0x0B00_0000 + UInt32(source) << 8), from: .peer(neighbour), now: 0)
        }
        for source in 0..<10 {
            let caller = IPv4Address(0x0A02_0000 + UInt32(source))
            table.learnSecondHand(junk(30, from: 0x0C00_0000 + UInt32(source) << 8), from: .caller(caller), now: 0)
        }
        #expect(table.policy.maxUnverifiedRelayed < 940)
        let answer = table.answer(excluding: nil)
        #expect(answer.contains(honest))
        #expect(answer.count == 1 + table.policy.maxUnverifiedRelayed)
        // Taken in turn from each source: every neighbour's news travels a little.
        let relayedSources = Set(answer.compactMap { table.entry(for: $0)?.source })
        #expect(relayedSources.count == 20)
    }

    @Test func successiveAnswersPassOnEveryKnownPeerAFewAtATime() {
        var table = makeTable()
        for source in 0..<4 {
            let neighbour = PeerIdentity(address: IPv4Address(0x0A01_0000 + UInt32(source)), port: 5000)!
            table.learnSecondHand(junk(200, from: 0x0B00_0000 + UInt32(source) << 8), from: .peer(neighbour), now: 0)
        }
        var relayed = Set<PeerIdentity>()
        for _ in 0..<2 {
            let answer = table.answer(excluding: nil)
            #expect(answer.count == table.policy.maxUnverifiedRelayed)
            relayed.formUnion(answer)
        }
        // 800 unverified peers, 512 an answer: two answers pass on every one.
        #expect(relayed.count == 800)
    }

    @Test func aClaimFindsRoomInATableFullOfJunkFromManyAddresses() {
        var table = makeTable(capacity: 200)
        for address in 0..<40 {
            let caller = IPv4Address(0x7F00_0100 + UInt32(address))
            for claimed in junk(8, from: 0x0C00_0000 + UInt32(address) << 8) {
                table.learnClaim(claimed, from: caller, now: 0)
            }
        }
        #expect(table.count == 200)
        let newcomer = PeerIdentity("10.5.5.5:5000")!
        let learned = table.learnClaim(newcomer, from: newcomer.address, now: 1)
        #expect(learned)
        #expect(table.contains(newcomer) && table.count == 200)
    }
}
