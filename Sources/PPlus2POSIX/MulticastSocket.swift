import Glibc

/// A UDP socket on the multicast DNS port, joined to a group on one interface:
/// what LAN discovery sends and receives through.
///
/// It shares the port with any other mDNS responder on the machine (avahi,
/// another peer): `SO_REUSEADDR` and `SO_REUSEPORT` are both set, which is what
/// the others set too. Multicast datagrams reach every socket on the port.
/// `IP_MULTICAST_ALL` is cleared, so only the group joined on our interface
/// is received, not the groups other programs joined on other interfaces.
public final class MulticastSocket: Sendable {
    public let descriptor: FileDescriptor
    private let group: UInt32
    private let port: UInt16

    /// Opens the socket and joins `group` on `interface`. The errors name the step.
    public init(group: UInt32, port: UInt16, interface: NetworkInterface) throws(IOFailure) {
        descriptor = FileDescriptor(
            adopting: try Sys.socket(AF_INET, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue))
        )
        self.group = group
        self.port = port
        let fd = descriptor.rawValue
        try Sys.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        try Sys.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
        // Bound to 0.0.0.0: a socket bound to a unicast address receives no multicast.
        try Sys.bind(fd, sockaddr_in(address: 0, port: port))
        try? Sys.setOption(fd, CInt(IPPROTO_IP), IP_MULTICAST_ALL, 0)
        var membership = ip_mreqn()
        membership.imr_multiaddr.s_addr = group.bigEndian
        membership.imr_address.s_addr = interface.address.bigEndian
        membership.imr_ifindex = CInt(interface.index)
        try Sys.setOption(fd, CInt(IPPROTO_IP), IP_ADD_MEMBERSHIP, value: membership)
        try Sys.setOption(fd, CInt(IPPROTO_IP), IP_MULTICAST_IF, value: membership)
        // RFC 6762 §11: sent with IP TTL 255; our own packets come back, so that
        // two peers on one machine see each other.
        try Sys.setOption(fd, CInt(IPPROTO_IP), IP_MULTICAST_TTL, 255)
        try Sys.setOption(fd, CInt(IPPROTO_IP), IP_MULTICAST_LOOP, 1)
        try Sys.setOption(fd, CInt(IPPROTO_IP), IP_TTL, 255)
    }

    /// One waiting datagram into `buffer`; nil when none is waiting. `size`
    /// is the datagram's real size: larger than the buffer means it was cut.
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(IOFailure) -> (size: Int, address: UInt32, port: UInt16)? {
        var source = sockaddr_in()
        guard case .processed(let size) = try Sys.receiveDatagram(descriptor.rawValue, buffer, from: &source) else {
            return nil
        }
        return (size, source.hostAddress, source.hostPort)
    }

    /// Sends one datagram to the group, or to `address:port`.
    public func send(_ bytes: [UInt8], to address: UInt32? = nil, port: UInt16? = nil) throws(IOFailure) {
        let destination = sockaddr_in(address: address ?? group, port: port ?? self.port)
        try bytes.withBytes { buffer throws(IOFailure) in
            try Sys.sendDatagram(descriptor.rawValue, buffer, to: destination)
        }
    }
}
