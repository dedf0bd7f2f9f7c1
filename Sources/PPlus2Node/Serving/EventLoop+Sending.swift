import PPlus2Core
import PPlus2POSIX

// Sending answers: each turn of the loop, the connections whose socket takes
// data share the turn by caller address (round-robin, as BitTorrent's upload
// slots and nginx's per-key limits are fair by caller): every address gets the
// same budget, split among its connections, so many connections from one
// address do not take the bandwidth of the others, and a slow reader costs
// only what it reads.

extension EventLoop.Slot {
    /// Sending, with something left to send.
    var wantsToWrite: Bool {
        if case .sending = phase { return true }
        return false
    }
}

extension EventLoop {
    /// The bytes one address may send in one turn, at least; more when few
    /// addresses share the turn (one caller alone gets the whole socket).
    static let addressBudget = 256 * 1024
    static let turnBudget = 16 << 20

    /// Sends on every writable connection, each address its share of the turn.
    func sendFairly(_ writable: [Slot]) {
        guard !writable.isEmpty else { return }
        var byAddress: [UInt32: [Slot]] = [:]
        for slot in writable { byAddress[slot.address, default: []].append(slot) }
        let perAddress = max(Self.addressBudget, Self.turnBudget / byAddress.count)
        for (_, connections) in byAddress {
            let share = max(16 * 1024, perAddress / connections.count)
            for slot in connections where slots[slot.token] != nil { send(slot, upTo: share) }
        }
    }

    /// Sends up to `budget` bytes of a connection's answer, as the socket takes them.
    private func send(_ slot: Slot, upTo budget: Int) {
        guard case .sending(var transfer, let file) = slot.phase else { return }
        var left = budget
        let now = MonotonicClock.now
        do {
            while left > 0 && !transfer.isComplete {
                let moved: Int
                if transfer.bytesLeft > 0 {
                    let result = try transfer.withBytesLeft { bytes throws(IOFailure) in
                        try slot.connection.socket.sendNow(UnsafeRawBufferPointer(rebasing: bytes.prefix(left)))
                    }
                    guard case .processed(let count) = result else { break }
                    transfer.sentBytes(count, now: now)
                    moved = count
                } else if let file {
                    var offset = transfer.fileOffset
                    let count = Int(min(Int64(left), transfer.fileLeft))
                    let result = try slot.connection.socket.sendFileNow(file.descriptor, offset: &offset, count: count)
                    guard case .processed(let sent) = result else { break }
                    if sent == 0 { transfer.fileEnded() }  // the file is shorter than when it was opened
                    transfer.sentFile(Int64(sent), now: now)
                    moved = sent
                } else {
                    break
                }
                left -= moved
            }
        } catch {
            log.debug(
                "\(endpoints[slot.endpoint].service.name) answer to \(IPv4Address(slot.address)) broken off: \(error)"
            )
            return end(slot, reset: true)  // the caller went away, or read too slowly
        }
        slot.phase = .sending(transfer, file: file)
        if transfer.isComplete { finish(slot, transfer, file) }
    }

    /// Everything was handed to the kernel: a clean close, unless the file
    /// changed while it was sent (a reset: the caller must not keep a cut or
    /// mixed file as whole).
    private func finish(_ slot: Slot, _ transfer: Transfer, _ file: ServedFile?) {
        guard let file else { return end(slot, reset: false) }
        let now = try? file.descriptor.status()
        let sentWhole = transfer.fileOffset == transfer.fileEnd
        guard sentWhole, now?.size == file.status.size, now?.modified == file.status.modified else {
            log.warning("\(file.name) changed while it was sent: transfer reset")
            return end(slot, reset: true)
        }
        log.debug("download \"\(file.name)\" to \(IPv4Address(slot.address)): \(transfer.written) bytes")
        served.add(name: file.name, bytes: transfer.fileCount, caller: slot.address, now: MonotonicClock.now)
        end(slot, reset: false)
    }
}
