// The words of the peer table: how a peer came to be known, whose word taught
// it, why it was dropped.

extension PeerTable {
    /// How the peer came to be known.
    public enum Origin: String, Sendable {
        case bootstrap
        case gossip
        case contactedUs = "contacted us"
        /// Known before the last restart (the peer's saved list).
        case saved
        /// Found on the LAN by DNS-SD (`--discover`).
        case discovered
    }

    /// Whose word taught an unverified peer.
    public enum Source: Hashable, Sendable {
        /// The answer of a peer we contacted.
        case peer(PeerIdentity)
        /// A caller at this address, in its request line.
        case caller(IPv4Address)
    }

    /// A peer dropped, remembered for display.
    public struct DroppedPeer: Sendable, Equatable {
        public let identity: PeerIdentity
        public let origin: Origin
        /// When it was last contacted (nil: never), as `Entry.lastContact`.
        public let lastContact: Double?
        public let reason: DropReason
    }

    /// Why a peer was dropped.
    public enum DropReason: Equatable, Sendable, CustomStringConvertible {
        /// Gossip failed to reach it this many times in a row.
        case failedContacts(Int)
        /// LAN discovery heard its goodbye.
        case saidGoodbye
        /// LAN discovery's records of it expired.
        case expired

        public var description: String {
            switch self {
            case .failedContacts(let count): "failed \(count) times"
            case .saidGoodbye: "said goodbye"
            case .expired: "expired"
            }
        }
    }
}
