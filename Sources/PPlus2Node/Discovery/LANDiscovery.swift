import PPlus2Core
import PPlus2POSIX

/// LAN discovery (`--discover`): one thread that owns the mDNS socket and
/// drives the two pure state machines, the responder (this peer, announced)
/// and the browser (the others, found). Found peers go into the same peer list
/// as gossip, through the same rules; peers that say goodbye or expire are
/// dropped from it. The P+2 wire does not change.
///
/// ```
///  224.0.0.251:5353 ──▶ DNSMessage(decoding:) ──▶ MulticastDNSResponder ──▶ answers, probes
///   (one interface)                          └──▶ MulticastDNSBrowser ──▶ PeerList
/// ```
public final class LANDiscovery: ThreadOwner {
    /// Why discovery cannot run; the peer goes on without it.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public let interface: NetworkInterface
    private let socket: MulticastSocket
    private let wake: NonBlockingPipe
    private let peers: PeerList
    private let log: Log
    private let identity: PeerIdentity
    private let ttl: UInt32
    private let requestedName: String
    private let published = Locked(Published())
    private let thread = ThreadHandle()

    /// What the thread publishes for the console.
    struct Published {
        var instanceName = ""
        var discovered: [PeerIdentity: String] = [:]
    }

    /// The most datagrams read per wake-up before timers get their turn.
    static let readBurst = 64

    public init(
        identity: PeerIdentity,
        name: String,
        ttl: UInt32,
        peers: PeerList,
        log: Log
    ) throws(Unavailable) {
        interface = try Self.interface(for: identity.address)
        do {
            socket = try MulticastSocket(group: Discovery.group.value, port: Discovery.port, interface: interface)
            wake = try NonBlockingPipe()
        } catch {
            throw Unavailable(
                description:
                    "cannot use multicast DNS (\(Discovery.group):\(Discovery.port)) on \(interface.name): \(error)"
            )
        }
        self.identity = identity
        self.ttl = ttl
        self.peers = peers
        self.log = log
        requestedName = name
        published.withLock { $0.instanceName = name }
    }

    /// The interface that holds `address`, if multicast can work on it.
    static func interface(for address: IPv4Address) throws(Unavailable) -> NetworkInterface {
        if address.isLoopback {
            throw Unavailable(
                description: "this peer advertises \(address), a loopback address: give --host or --bind a LAN address"
            )
        }
        guard let interface = Resolver.interfaces().first(where: { $0.address == address.value }) else {
            throw Unavailable(description: "no interface of this machine has the advertised address \(address)")
        }
        guard interface.isUp else { throw Unavailable(description: "interface \(interface.name) is down") }
        guard interface.supportsMulticast else {
            throw Unavailable(
                description: "interface \(interface.name) (\(address)) has multicast turned off "
                    + "(ip link set \(interface.name) multicast on)"
            )
        }
        return interface
    }

    /// The first interface that is up, not loopback and multicast-capable:
    /// the address a discovering peer advertises when nothing else decides.
    static func firstLANAddress() -> IPv4Address? {
        Resolver.interfaces().first { $0.isUp && !$0.isLoopback && $0.supportsMulticast }.map {
            IPv4Address($0.address)
        }
    }

    /// The instance name announced (it may have become `name (2)` after a conflict).
    public var instanceName: String { published.withLock { $0.instanceName } }

    /// The peers discovery currently resolves, with their instance names.
    public var discovered: [PeerIdentity: String] { published.withLock { $0.discovered } }

    public func start() throws(IOFailure) {
        try thread.start(name: "pplus2-mdns") { [self] in run() }
    }

    /// Asks the thread to send the goodbye and end.
    public func stop() {
        guard thread.requestStop() else { return }
        wake.wake()
    }

    /// Waits until the goodbye is sent and the thread has ended.
    public func join() {
        thread.join()
    }

    // MARK: The thread

    private func run() {
        var random = SystemRandomNumberGenerator()
        var state = ThreadState(
            responder: MulticastDNSResponder(
                identity: identity,
                name: requestedName,
                ttl: ttl,
                now: MonotonicClock.now,
                seed: random.next()
            ),
            browser: MulticastDNSBrowser(now: MonotonicClock.now, seed: random.next())
        )
        while !thread.isStopping {
            let now = MonotonicClock.now
            send(state.responder.due(now: now), &state)
            let (events, query) = state.browser.due(now: now)
            apply(events, browser: state.browser)
            if let query { send([query], &state) }

            let deadline = min(state.responder.nextDeadline, state.browser.nextDeadline)
            var poll = PollSet()
            poll.addReadable(socket.descriptor)
            poll.addReadable(wake.readEnd)
            poll.wait(timeout: min(max(deadline - MonotonicClock.now, 0), 60))
            if poll.isReady(1) { wake.drain() }
            if poll.isReady(0) { readBurst(&state) }
        }
        send(state.responder.stop(), &state)
    }

    /// What the discovery thread alone keeps between turns.
    private struct ThreadState {
        var responder: MulticastDNSResponder
        var browser: MulticastDNSBrowser
        var buffer = [UInt8](repeating: 0, count: DNSMessage.maxBytes)
        /// The last send failed: the next failure is not logged again.
        var sendFailed = false
    }

    private func send(_ packets: [DiscoveryPacket], _ state: inout ThreadState) {
        for packet in packets {
            do {
                switch packet.destination {
                case .multicast: try socket.send(packet.message.encoded())
                case .unicast(let address, let port):
                    try socket.send(packet.message.encoded(), to: address.value, port: port)
                }
                state.sendFailed = false
            } catch {
                if !state.sendFailed { log.warning("LAN discovery cannot send on \(interface.name): \(error.reason)") }
                state.sendFailed = true
            }
        }
    }

    /// Reads up to `readBurst` waiting datagrams and hands each to the machines.
    private func readBurst(_ state: inout ThreadState) {
        for _ in 0..<Self.readBurst {
            let received: (size: Int, address: UInt32, port: UInt16)?
            do {
                received = try state.buffer.withUnsafeMutableBytes { (raw) throws(IOFailure) in
                    try socket.receive(into: raw)
                }
            } catch {
                log.debug("LAN discovery: \(error)")
                return
            }
            guard let received else { return }
            guard received.size <= state.buffer.count else {
                log.debug("LAN discovery: ignored a packet of \(received.size) bytes")
                continue
            }
            let source = IPv4Address(received.address)
            let message: DNSMessage
            do {
                message = try DNSMessage(decoding: state.buffer[..<received.size])
            } catch {
                log.debug("LAN discovery: ignored a malformed packet from \(source): \(error)")
                continue
            }
            handle(message, from: source, port: received.port, &state)
        }
    }

    private func handle(_ message: DNSMessage, from source: IPv4Address, port: UInt16, _ state: inout ThreadState) {
        let now = MonotonicClock.now
        if case .renamed(let old, let new) = state.responder.handle(message, from: source, port: port, now: now) {
            log.warning("LAN discovery: the name \"\(old)\" is taken on this network; announcing as \"\(new)\"")
            published.withLock { $0.instanceName = new }
        }
        apply(state.browser.handle(message, now: now), browser: state.browser)
    }

    /// Feeds what the browser found or lost into the peer list.
    private func apply(_ events: [MulticastDNSBrowser.Event], browser: MulticastDNSBrowser) {
        guard !events.isEmpty else { return }
        for event in events {
            switch event {
            case .found(let peer, let instance):
                if peers.learnDiscovered(peer) { log.debug("discovered \(peer) (\"\(instance)\") on the LAN") }
            case .lost(let peer, let instance, let reason):
                if peers.forget(peer, reason: reason == .goodbye ? .saidGoodbye : .expired) {
                    log.debug("\(peer) (\"\(instance)\") \(reason.rawValue) on the LAN: dropped")
                }
            }
        }
        let current = Dictionary(browser.resolved.map { ($0.identity, $0.instance) }, uniquingKeysWith: { a, _ in a })
        published.withLock { $0.discovered = current }
    }
}
