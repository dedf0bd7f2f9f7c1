import Testing

@testable import PPlus2Core

/// The mDNS manners of the responder and the browser, driven with a fake clock.
@Suite("Multicast DNS responder and browser")
struct MulticastDNSTests {
    let me = PeerIdentity("10.0.0.7:5000")!
    let other = IPv4Address(10, 0, 0, 9)

    func responder(name: String = "alice", ttl: UInt32 = 120, seed: UInt64 = 1) -> MulticastDNSResponder {
        MulticastDNSResponder(identity: me, name: name, ttl: ttl, now: 0, seed: seed)
    }

    /// Runs the responder's clock from `start` to `end` in 10 ms steps; the packets sent, with times.
    func run(
        _ responder: inout MulticastDNSResponder,
        from start: Double,
        to end: Double
    ) -> [(time: Double, packet: DiscoveryPacket)] {
        var sent: [(Double, DiscoveryPacket)] = []
        var now = start
        while now <= end {
            sent += responder.due(now: now).map { (now, $0) }
            now += 0.01
        }
        return sent
    }

    func isProbe(_ packet: DiscoveryPacket) -> Bool {
        !packet.message.isResponse && !packet.message.authorities.isEmpty
    }

    /// What another host's records for `instance` look like, as a response.
    func response(_ records: [DNSRecord]) -> DNSMessage {
        DNSMessage(flags: DNSMessage.responseFlags, answers: records)
    }

    func browseQuery(known: [DNSRecord] = []) -> DNSMessage {
        DNSMessage(questions: [DNSQuestion(name: Discovery.serviceType, type: DNSType.ptr)], answers: known)
    }

    // MARK: Responder

    @Test func probesThreeTimesThenAnnouncesTwice() {
        var responder = responder()
        let sent = run(&responder, from: 0, to: 4)
        let probes = sent.filter { isProbe($0.packet) }
        let announcements = sent.filter { $0.packet.message.isResponse }
        #expect(probes.count == 3)
        #expect(probes.first!.time <= 0.25)
        for (a, b) in zip(probes, probes.dropFirst()) { #expect(abs(b.time - a.time - 0.25) < 0.02) }
        #expect(announcements.count == 2)
        #expect(announcements[0].time >= probes.last!.time + 0.25)
        #expect(abs(announcements[1].time - announcements[0].time - 1) < 0.02)
        #expect(responder.phase == .running)

        let records = announcements[0].packet.message.answers
        let srv = records.first { $0.type == DNSType.srv }
        #expect(srv?.data == .srv(priority: 0, weight: 0, port: 5000, target: DNSName("pplus2-10-0-0-7-5000.local")!))
        #expect(srv?.cacheFlush == true && srv?.ttl == 120)
        #expect(records.contains { $0.type == DNSType.a && $0.data == .a(me.address) })
        #expect(records.contains { $0.type == DNSType.txt && $0.data == .txt([Array("v=1".utf8)]) })
        let pointer = records.first { $0.type == DNSType.ptr && $0.name == Discovery.serviceType }
        #expect(pointer?.data == .ptr(Discovery.serviceType.prepending(Array("alice".utf8))!))
        #expect(pointer?.cacheFlush == false)  // shared record
        // Probe: asks for the instance name, proposes SRV and TXT in the authority section.
        let probe = probes[0].packet.message
        #expect(probe.questions.map(\.name) == [Discovery.serviceType.prepending(Array("alice".utf8))!])
        #expect(Set(probe.authorities.map(\.type)) == [DNSType.srv, DNSType.txt])
    }

    @Test func renamesOnConflictAndIgnoresItsOwnEcho() {
        var responder = responder()
        let probes = run(&responder, from: 0, to: 0.3)
        // Our own probe, looped back by the kernel: not a conflict.
        for (_, probe) in probes {
            #expect(responder.handle(probe.message, from: me.address, port: 5353, now: 0.3) == nil)
        }
        #expect(responder.instanceName == "alice")
        // Someone else answers for "alice" with another host: conflict.
        let theirs = DNSRecord(
            name: Discovery.serviceType.prepending(Array("ALICE".utf8))!,  // names ignore case
            type: DNSType.srv,
            ttl: 120,
            data: .srv(priority: 0, weight: 0, port: 7000, target: DNSName("bob.local")!)
        )
        let event = responder.handle(response([theirs]), from: other, port: 5353, now: 0.4)
        #expect(event == .renamed(from: "alice", to: "alice (2)"))
        #expect(responder.phase == .probing)
        // A goodbye for the new name is someone leaving, not a conflict.
        var goodbye = theirs
        goodbye.name = Discovery.serviceType.prepending(Array("alice (2)".utf8))!
        goodbye.ttl = 0
        #expect(responder.handle(response([goodbye]), from: other, port: 5353, now: 0.5) == nil)
        let sent = run(&responder, from: 0.5, to: 5)
        #expect(sent.filter { $0.packet.message.isResponse }.count == 2)
        #expect(responder.instanceName == "alice (2)")
        // Our own announcement looped back is no conflict either.
        #expect(responder.handle(sent.last!.packet.message, from: me.address, port: 5353, now: 5) == nil)
        // A third conflict after running: "alice (3)".
        goodbye.ttl = 120
        #expect(responder.handle(response([goodbye]), from: other, port: 5353, now: 6) != nil)
        #expect(responder.instanceName == "alice (3)")
    }

    @Test func longNamesAreCutToOneLabelWithTheirSuffix() {
        let name = String(repeating: "é", count: 40)  // 80 bytes
        var responder = responder(name: name)
        #expect(responder.instanceName.utf8.count <= 63)
        #expect(responder.instanceName == String(repeating: "é", count: 31))
        let conflicting = DNSRecord(
            name: Discovery.serviceType.prepending(Array(responder.instanceName.utf8))!,
            type: DNSType.txt,
            ttl: 120,
            data: .txt([Array("v=9".utf8)])
        )
        _ = responder.handle(response([conflicting]), from: other, port: 5353, now: 0.1)
        #expect(responder.instanceName == String(repeating: "é", count: 29) + " (2)")
    }

    /// `message` with `change` applied to every record of every section.
    func withRecords(of message: DNSMessage, _ change: (DNSRecord) -> DNSRecord) -> DNSMessage {
        var changed = message
        changed.answers = message.answers.map(change)
        changed.authorities = message.authorities.map(change)
        changed.additionals = message.additionals.map(change)
        return changed
    }

    func withSRVPort(_ record: DNSRecord, _ port: UInt16) -> DNSRecord {
        guard case .srv(_, _, _, let target) = record.data else { return record }
        var changed = record
        changed.data = .srv(priority: 0, weight: 0, port: port, target: target)
        return changed
    }

    @Test func simultaneousProbesLoserWaitsASecond() {
        var responder = responder()
        let ours = run(&responder, from: 0, to: 0.26).last!.packet.message
        // The same name probed by another host with a larger port: its records
        // compare greater (same class and type, larger data), so we lose.
        let theirs = withRecords(of: ours) { withSRVPort($0, 9000) }
        _ = responder.handle(theirs, from: other, port: 5353, now: 0.3)
        let after = run(&responder, from: 0.3, to: 1.29)
        #expect(after.isEmpty, "probing waits one second after losing")
        #expect(run(&responder, from: 1.3, to: 1.31).contains { isProbe($0.packet) })

        // Against a smaller competitor we win and go on.
        var winner = self.responder(seed: 2)
        let probe = run(&winner, from: 0, to: 0.26).last!.packet.message
        let smaller = withRecords(of: probe) { withSRVPort($0, 10) }
        _ = winner.handle(smaller, from: other, port: 5353, now: 0.3)
        #expect(run(&winner, from: 0.3, to: 0.6).contains { isProbe($0.packet) })
    }

    /// A responder that has finished announcing, at time 5.
    func runningResponder() -> MulticastDNSResponder {
        var responder = responder()
        _ = run(&responder, from: 0, to: 5)
        return responder
    }

    @Test func answersBrowsingAfterARandomDelayWithEverythingNeeded() {
        var responder = runningResponder()
        _ = responder.handle(browseQuery(), from: other, port: 5353, now: 10)
        #expect(responder.due(now: 10.01).isEmpty)
        let sent = run(&responder, from: 10.02, to: 10.2)
        #expect(sent.count == 1)
        #expect((10.02...10.13).contains(sent[0].time))
        let answer = sent[0].packet.message
        #expect(answer.isResponse && answer.answers.map(\.type) == [DNSType.ptr])
        #expect(Set(answer.additionals.map(\.type)) == [DNSType.srv, DNSType.txt, DNSType.a])
        #expect(sent[0].packet.destination == .multicast)
    }

    @Test func aFloodOfQueriesGetsAtMostOneAnswerPerSecond() {
        var responder = runningResponder()
        var multicasts: [UInt16: Int] = [:]
        var now = 10.0
        // 1000 queries a second for 10 s, for every name it owns.
        let everything = DNSMessage(questions: [
            DNSQuestion(name: Discovery.serviceType, type: DNSType.ptr),
            DNSQuestion(name: Discovery.serviceEnumeration, type: DNSType.ptr),
            DNSQuestion(name: responder.host, type: DNSType.any),
        ])
        while now < 20 {
            _ = responder.handle(everything, from: other, port: 5353, now: now)
            for packet in responder.due(now: now) {
                for record in packet.message.answers { multicasts[record.type, default: 0] += 1 }
            }
            now += 0.001
        }
        // PTR (service and enumeration) and A: each about once a second, never more.
        #expect(multicasts[DNSType.ptr].map { (16...22).contains($0) } == true, "\(multicasts)")
        #expect(multicasts[DNSType.a].map { (8...11).contains($0) } == true, "\(multicasts)")
    }

    @Test func knownAnswersSuppressAndHalfTTLDoesNot() {
        var responder = runningResponder()
        let instance = Discovery.serviceType.prepending(Array("alice".utf8))!
        let fresh = DNSRecord(name: Discovery.serviceType, type: DNSType.ptr, ttl: 100, data: .ptr(instance))
        _ = responder.handle(browseQuery(known: [fresh]), from: other, port: 5353, now: 10)
        #expect(run(&responder, from: 10, to: 11).isEmpty)
        var stale = fresh
        stale.ttl = 50  // less than half of 120: the asker wants it again
        _ = responder.handle(browseQuery(known: [stale]), from: other, port: 5353, now: 12)
        #expect(run(&responder, from: 12, to: 13).count == 1)
    }

    @Test func legacyUnicastAskersGetTheirOwnAnswerRateLimited() {
        var responder = runningResponder()
        var query = browseQuery()
        query.id = 0xBEEF
        _ = responder.handle(query, from: other, port: 40000, now: 10)
        let sent = responder.due(now: 10)
        #expect(sent.count == 1)
        #expect(sent[0].destination == .unicast(other, port: 40000))
        #expect(sent[0].message.id == 0xBEEF && sent[0].message.questions == query.questions)
        #expect(sent[0].message.answers.allSatisfy { $0.ttl <= 10 && !$0.cacheFlush })
        // 1000 a second for 5 s: a burst of 10, then 10 a second.
        var answered = 0
        for index in 0..<5000 {
            _ = responder.handle(query, from: other, port: 40000, now: 10 + Double(index) / 1000)
            answered += responder.due(now: 10 + Double(index) / 1000).count
        }
        #expect((45...60).contains(answered), "\(answered)")
    }

    @Test func aUnicastAnswerIsDueAtOnceEvenWhileAnnouncing() {
        var responder = responder()
        _ = run(&responder, from: 0, to: 1.2)  // probed, announced once
        #expect(responder.phase == .announcing)
        _ = responder.handle(browseQuery(), from: other, port: 40000, now: 1.25)
        #expect(responder.nextDeadline <= 1.25)
        #expect(responder.due(now: 1.25).contains { $0.destination == .unicast(other, port: 40000) })
    }

    @Test func sayGoodbyeWithTTLZeroOnlyIfAnnounced() {
        var silent = responder()
        #expect(silent.stop().isEmpty)
        var responder = runningResponder()
        let goodbye = responder.stop()
        #expect(goodbye.count == 1)
        #expect(goodbye[0].message.answers.count == 5 && goodbye[0].message.answers.allSatisfy { $0.ttl == 0 })
        #expect(responder.stop().isEmpty)
        _ = responder.handle(browseQuery(), from: other, port: 5353, now: 10)
        #expect(run(&responder, from: 10, to: 11).isEmpty)
    }

    // MARK: Browser

    /// A peer's announcement, as its responder sends it.
    func announcement(of identity: PeerIdentity, name: String, ttl: UInt32 = 120) -> DNSMessage {
        var responder = MulticastDNSResponder(identity: identity, name: name, ttl: ttl, now: 0, seed: 9)
        return run(&responder, from: 0, to: 1.5).first { $0.packet.message.isResponse }!.packet.message
    }

    @Test func findsAPeerFromItsAnnouncement() {
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        let bob = PeerIdentity("10.0.0.9:6000")!
        let events = browser.handle(announcement(of: bob, name: "bob"), now: 1)
        #expect(events == [.found(bob, instance: "bob")])
        #expect(browser.handle(announcement(of: bob, name: "bob"), now: 2).isEmpty)  // a refresh is no news
    }

    @Test func aGoodbyeLosesThePeerOneSecondLater() {
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        let bob = PeerIdentity("10.0.0.9:6000")!
        _ = browser.handle(announcement(of: bob, name: "bob"), now: 1)
        var responder = MulticastDNSResponder(identity: bob, name: "bob", ttl: 120, now: 0, seed: 9)
        _ = run(&responder, from: 0, to: 5)
        _ = browser.handle(responder.stop()[0].message, now: 10)
        #expect(browser.due(now: 10.5).events.isEmpty)
        #expect(browser.due(now: 11).events == [.lost(bob, instance: "bob", reason: .goodbye)])
        #expect(browser.trackedCount == 0)
    }

    @Test func asksAgainNearTheEndOfTTLAndForgetsAtTheEnd() {
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        let bob = PeerIdentity("10.0.0.9:6000")!
        _ = browser.handle(announcement(of: bob, name: "bob", ttl: 100), now: 0)
        var refreshQueries: [Double] = []
        var lost: [(Double, MulticastDNSBrowser.Event)] = []
        var now = 0.0
        while now < 101 {
            let (events, query) = browser.due(now: now)
            lost += events.map { (now, $0) }
            if let query, now > 50, query.message.questions.contains(where: { $0.type == DNSType.srv }) {
                refreshQueries.append(now)
            }
            now += 0.05
        }
        #expect(refreshQueries.count == 4)
        #expect(refreshQueries.allSatisfy { (80...98).contains($0) })
        #expect(lost.count == 1)
        #expect(lost.first.map { $0.0 >= 100 && $0.1 == .lost(bob, instance: "bob", reason: .expired) } == true)
    }

    @Test func aRefreshedPeerIsKept() {
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        let bob = PeerIdentity("10.0.0.9:6000")!
        let message = announcement(of: bob, name: "bob", ttl: 10)
        var events: [MulticastDNSBrowser.Event] = []
        for step in 0..<1200 {  // 60 s, an announcement every 8 s
            let now = Double(step) * 0.05
            if step % 160 == 0 { events += browser.handle(message, now: now) }
            events += browser.due(now: now).events
        }
        #expect(events == [.found(bob, instance: "bob")])
    }

    @Test func refusesAddressesAndPortsThatCannotBePeersAndOtherVersions() {
        func isIgnored(_ message: DNSMessage) -> Bool {
            var browser = MulticastDNSBrowser(now: 0, seed: 1)
            return browser.handle(message, now: 1).isEmpty
        }
        for address in ["0.0.0.0", "224.0.0.251", "255.255.255.255"] {
            let message = withRecords(of: announcement(of: me, name: "x")) { record in
                guard record.type == DNSType.a else { return record }
                var changed = record
                changed.data = .a(IPv4Address(address)!)
                return changed
            }
            #expect(isIgnored(message), "\(address)")
        }
        for port: UInt16 in [0, 65534, 65535] {
            #expect(isIgnored(withRecords(of: announcement(of: me, name: "x")) { withSRVPort($0, port) }), "\(port)")
        }
        let future = withRecords(of: announcement(of: me, name: "x")) { record in
            guard record.type == DNSType.txt else { return record }
            var changed = record
            changed.data = .txt([Array("V=2".utf8)])
            return changed
        }
        #expect(isIgnored(future))
        #expect(!isIgnored(announcement(of: me, name: "x")))  // the unchanged one is found
    }

    @Test func tracksAtMostMaxInstancesWhateverAFloodSays() {
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        for batch in 0..<100 {
            let records = (0..<100).map { index in
                DNSRecord(
                    name: Discovery.serviceType,
                    type: DNSType.ptr,
                    ttl: 4_000_000_000,  // cut to Discovery.maxTTL
                    data: .ptr(Discovery.serviceType.prepending(Array("spam \(batch) \(index)".utf8))!)
                )
            }
            _ = browser.handle(response(records), now: 1)
        }
        #expect(browser.trackedCount == MulticastDNSBrowser.maxInstances)
        #expect(browser.ignoredInstances == 10_000 - MulticastDNSBrowser.maxInstances)
        // Unresolved instances are asked about a few times, not forever.
        var questions = 0
        var now = 1.0
        while now < 60 {
            questions += browser.due(now: now).query?.message.questions.count ?? 0
            now += 0.1
        }
        #expect(questions <= MulticastDNSBrowser.maxInstances * 2 * MulticastDNSBrowser.maxResolveTries + 20)
        // Cut TTLs: all forgotten after 4500 s.
        #expect(browser.due(now: Double(Discovery.maxTTL) + 2).events.isEmpty)
        #expect(browser.trackedCount == 0)
    }

    @Test func browseQueriesBackOffAndListKnownAnswers() {
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        var times: [Double] = []
        var now = 0.0
        var lastKnown: [DNSRecord] = []
        while now < 70 {
            if let query = browser.due(now: now).query,
                query.message.questions.contains(DNSQuestion(name: Discovery.serviceType, type: DNSType.ptr))
            {
                times.append(now)
                lastKnown = query.message.answers
            }
            if (5...5.05).contains(now) {
                _ = browser.handle(announcement(of: PeerIdentity("10.0.0.9:6000")!, name: "bob", ttl: 4500), now: now)
            }
            now += 0.05
        }
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        #expect(gaps.count >= 5)
        for (a, b) in zip(gaps, gaps.dropFirst()) { #expect(b >= a * 1.8) }
        #expect(lastKnown.count == 1 && lastKnown[0].ttl > 4400)
    }

    @Test func aPeerNamedByTwoInstancesIsLostOnlyWithTheLast() {
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        let bob = PeerIdentity("10.0.0.9:6000")!
        // Its old name, from before a rename, lives 10 s; the new one 100 s.
        #expect(browser.handle(announcement(of: bob, name: "bob", ttl: 10), now: 0) == [.found(bob, instance: "bob")])
        _ = browser.handle(announcement(of: bob, name: "bob (2)", ttl: 100), now: 0)
        var lost: [MulticastDNSBrowser.Event] = []
        for step in 0...2000 { lost += browser.due(now: Double(step) * 0.05).events }
        #expect(lost == [.lost(bob, instance: "bob (2)", reason: .expired)])
    }
}
