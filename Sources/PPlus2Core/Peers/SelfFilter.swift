/// Recognises the peer's own identity on every address it listens on.
public struct SelfFilter: Sendable {
    public let port: UInt16
    public let addresses: Set<IPv4Address>
    /// True when the listeners are bound to 0.0.0.0: the peer then answers on
    /// every address of 127.0.0.0/8 too.
    public let includesLoopbackRange: Bool

    public init(port: UInt16, addresses: Set<IPv4Address>, includesLoopbackRange: Bool) {
        self.port = port
        self.addresses = addresses
        self.includesLoopbackRange = includesLoopbackRange
    }

    public func isSelf(_ peer: PeerIdentity) -> Bool {
        peer.port == port && (addresses.contains(peer.address) || includesLoopbackRange && peer.address.isLoopback)
    }
}
