/// What the two halves of LAN discovery share: the names of the service, the
/// packets they hand to the network thread, and the random delays mDNS asks for.
///
/// Discovery is DNS-SD over multicast DNS (RFC 6763, RFC 6762), a side channel
/// that only feeds the peer list: each peer announces itself as an instance of
/// `_pplus2._tcp.local.` (`MulticastDNSResponder`) and browses for the others
/// (`MulticastDNSBrowser`). Both are pure state machines: packets and the time
/// go in, packets to send and events come out. The node's discovery thread
/// owns the socket and the clock.
public enum Discovery {
    /// The service type every P+2 peer announces.
    public static let serviceType = DNSName("_pplus2._tcp.local")!
    /// DNS-SD service enumeration (`avahi-browse -a` asks it).
    public static let serviceEnumeration = DNSName("_services._dns-sd._udp.local")!
    public static let port: UInt16 = 5353
    public static let group = IPv4Address(224, 0, 0, 251)
    /// Our TXT record: the version of the P+2 wire the peer speaks.
    public static let txt: [[UInt8]] = [Array("v=1".utf8)]
    /// The longest TTL believed from a packet: a record claiming days cannot
    /// keep a dead peer listed longer than 75 minutes (RFC 6762's shared-record TTL).
    public static let maxTTL: UInt32 = 4500
}

/// A packet to send: to the mDNS group, or (a legacy unicast answer) to one asker.
public struct DiscoveryPacket: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        case multicast
        case unicast(IPv4Address, port: UInt16)
    }

    public let message: DNSMessage
    public let destination: Destination

    public init(_ message: DNSMessage, to destination: Destination = .multicast) {
        self.message = message
        self.destination = destination
    }
}
