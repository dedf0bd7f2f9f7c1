import Glibc

/// Addresses: names to IPv4 addresses, and the machine's own addresses.
public enum Resolver {
    /// The first IPv4 address of `host` (a name or a dotted address), by
    /// `getaddrinfo`. Returns nil if it has none.
    public static func resolveIPv4(_ host: String) -> UInt32? {
        Sys.resolveIPv4(host).first?.hostAddress
    }

    /// The local address the kernel would use to reach `address:port`: a UDP
    /// socket is "connected" (no packet is sent) and asked for its own address.
    public static func localAddressForRoute(to address: UInt32, port: UInt16) -> UInt32? {
        guard let raw = try? Sys.socket(AF_INET, CInt(SOCK_DGRAM.rawValue)) else { return nil }
        let socket = FileDescriptor(adopting: raw)
        // A UDP connect completes at once; `.wouldBlock` cannot happen.
        guard case .processed? = try? Sys.connect(socket.rawValue, sockaddr_in(address: address, port: port)),
            let local = try? Sys.localAddress(socket.rawValue)
        else { return nil }
        return local.hostAddress
    }
}

/// An IPv4 address of a network interface, with what discovery needs to know of it.
public struct NetworkInterface: Sendable, Equatable {
    public let name: String
    public let index: UInt32
    public let address: UInt32
    public let isUp: Bool
    public let isLoopback: Bool
    public let supportsMulticast: Bool
}

extension Resolver {
    /// Every IPv4 address of every interface (`getifaddrs`), in the kernel's order.
    public static func interfaces() -> [NetworkInterface] {
        Sys.interfaceAddresses().map { entry in
            NetworkInterface(
                name: entry.name,
                index: entry.index,
                address: entry.address.hostAddress,
                isUp: entry.flags & Int32(IFF_UP) != 0,
                isLoopback: entry.flags & Int32(IFF_LOOPBACK) != 0,
                supportsMulticast: entry.flags & Int32(IFF_MULTICAST) != 0
            )
        }
    }

    /// The host name of this machine (`gethostname`), at most 255 bytes.
    public static func hostName() -> String {
        Sys.hostName()
    }
}
