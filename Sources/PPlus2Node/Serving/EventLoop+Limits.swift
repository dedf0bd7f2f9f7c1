import PPlus2Core
import PPlus2POSIX

// What the loop lets in, by what is scarce: descriptors (the process's limit,
// less a margin for the peer's own files), connections still sending their
// request line (in all, per caller address, per /24), and answers in progress
// per port and per caller address. A flood from one address or one /24 costs
// that address its oldest connections, never the others their place.

extension EventLoop {
    /// Takes every waiting connection of a listener (bounded, so the other
    /// listeners get their turn).
    func acceptAll(on endpoint: Int) {
        let now = MonotonicClock.now
        for _ in 0..<256 {
            if slots.count + openFiles >= descriptorBudget, !evictOldestPending() { return rest(now) }
            let accepted: TCPSocket?
            do {
                accepted = try endpoints[endpoint].listener.accept()
            } catch {
                // EMFILE and the like: make room by the oldest idle connection of
                // the heaviest address; with none, accept-and-reset by the reserve.
                if evictOldestPending() { continue }
                refuseOne(on: endpoint)
                return rest(now)
            }
            guard let accepted else { return }
            admit(Connection(accepted), on: endpoint, now: now)
        }
    }

    /// Rests the listeners for 100 ms: never a spin on a full process (their
    /// backlog would wake the loop at once, again and again).
    private func rest(_ now: Double) {
        acceptingResumesAt = now + 0.1
        nextCheck = min(nextCheck, acceptingResumesAt)
        for (index, endpoint) in endpoints.enumerated() {
            poll.change(endpoint.listener.descriptor, token: UInt64(index), to: [])
        }
    }

    /// Listens again once the rest is over.
    func resumeAccepting(now: Double) {
        guard acceptingResumesAt > -Double.infinity, now >= acceptingResumesAt else { return }
        acceptingResumesAt = -Double.infinity
        for (index, endpoint) in endpoints.enumerated() {
            poll.change(endpoint.listener.descriptor, token: UInt64(index), to: .readable)
        }
    }

    private func admit(_ connection: Connection, on endpoint: Int, now: Double) {
        let address = connection.socket.remoteAddress() ?? 0
        let slot = Slot(
            token: nextToken,
            connection: connection,
            endpoint: endpoint,
            address: address,
            deadline: now + limits.requestLineTimeout
        )
        nextToken += 1
        do {
            try poll.add(connection.socket.descriptor, token: slot.token, for: .readable)
        } catch {
            return connection.reset()
        }
        slots[slot.token] = slot
        pending.add(slot.token, from: address)
        // The caller's own share first, then its /24's, then everyone's.
        if pending.count(of: address) > limits.maxPendingPerAddress {
            evictOldestPending(of: { $0 == address })
        }
        if pending.count(inSubnetOf: address) > limits.maxPendingPerSubnet {
            evictOldestPending(of: { $0 >> 8 == address >> 8 })
        }
        if pending.total > limits.maxPendingConnections { evictOldestPending() }
    }

    /// Resets the oldest idle connection (nothing of its line sent) of the
    /// address, among those `matching`, that holds the most connections still
    /// sending their line. A candidate is read first: one whose line is
    /// already there is answered instead (a caller is not punished for the
    /// loop being behind). False if there is none.
    @discardableResult
    func evictOldestPending(of matching: (UInt32) -> Bool = { _ in true }) -> Bool {
        guard let heaviest = pending.heaviest(matching: matching) else { return false }
        let candidates = pending.oldest(of: heaviest, limit: 16) { slots[$0]?.isReading == true }.compactMap {
            slots[$0]
        }
        var fallback: Slot?
        for slot in candidates.prefix(16) {
            readRequest(slot)
            guard case .reading(let reader) = slot.phase, slots[slot.token] != nil else {
                continue  // it had its line, or it ended
            }
            if reader.bufferedCount == 0 {
                end(slot, reset: true)
                return true
            }
            fallback = fallback ?? slot
        }
        guard let victim = fallback ?? candidates.first(where: { slots[$0.token] != nil && $0.isReading }) else {
            return !candidates.isEmpty  // every candidate moved on: places freed all the same
        }
        end(victim, reset: true)
        return true
    }

    /// Out of descriptors with nothing to evict: the reserve descriptor is
    /// closed to accept one waiting connection and reset it, then taken again
    /// (libuv's answer to EMFILE), so the backlog does not wake the loop for ever.
    private func refuseOne(on endpoint: Int) {
        reserve?.close()
        reserve = nil
        if let waiting = try? endpoints[endpoint].listener.accept() { Connection(waiting).reset() }
        reserve = try? FileReading.open("/dev/null")
        log.warning("out of descriptors: refused a connection on the \(endpoints[endpoint].service.name) port")
    }

    /// Whether a request may start its answer now.
    func hasRoom(for slot: Slot) -> Bool {
        let capacity = endpoints[slot.endpoint].capacity
        guard inFlight[slot.endpoint] < capacity.inFlight,
            inFlightByAddress[slot.endpoint]?[slot.address, default: 0] ?? 0 < capacity.perAddress
        else { return false }
        // A file answer holds one more descriptor.
        return !endpoints[slot.endpoint].service.opensFiles || slots.count + openFiles < descriptorBudget
    }

    func take(_ slot: Slot) {
        inFlight[slot.endpoint] += 1
        inFlightByAddress[slot.endpoint, default: [:]][slot.address, default: 0] += 1
    }

    func give(_ slot: Slot) {
        inFlight[slot.endpoint] -= 1
        inFlightByAddress[slot.endpoint]?.decrement(slot.address)
    }

    /// Starts queued requests in arrival order where there is room now;
    /// those still waiting keep their place.
    func startQueued() {
        queue.removeAll { token in
            guard let slot = slots[token], case .queued = slot.phase else { return true }  // ended meanwhile
            return startAnswer(slot)
        }
    }

    /// Ends what is over its time: a request line not whole within 10 s (no
    /// answer), a queued request past its 10 s (a reset), a transfer whose
    /// caller takes too little or stopped taking it (a reset).
    func checkDeadlines() {
        let now = MonotonicClock.now
        for slot in Array(slots.values) {
            switch slot.phase {
            case .reading:
                if now >= slot.deadline { end(slot, reset: false) }
            case .queued:
                if now >= slot.deadline { end(slot, reset: true) }
            case .sending(let transfer, _):
                guard now - transfer.started >= min(rules.graceSeconds, rules.idleSeconds) else { continue }
                let verdict = transfer.verdict(now: now, unacknowledged: slot.connection.socket.unacknowledgedBytes)
                if verdict == .tooSlow || verdict == .idle {
                    log.debug(
                        "\(endpoints[slot.endpoint].service.name) answer to \(IPv4Address(slot.address)): \(verdict)"
                    )
                    end(slot, reset: true)
                }
            }
        }
    }
}
