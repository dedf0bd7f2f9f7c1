import Glibc

/// Addresses: names to IPv4 addresses, and the machine's own addresses.
public enum Resolver {
    /// The first IPv4 address of `host` (a name or a dotted address), by
    /// `getaddrinfo`. Returns nil if it has none.
    public static func resolveIPv4(_ host: String) -> UInt32? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = socketStream
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            if current.pointee.ai_family == AF_INET, let address = current.pointee.ai_addr {
                return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.hostAddress }
            }
            node = current.pointee.ai_next
        }
        return nil
    }

    /// The local address the kernel would use to reach `address:port`: a UDP
    /// socket is "connected" (no packet is sent) and asked for its own address.
    public static func localAddressForRoute(to address: UInt32, port: UInt16) -> UInt32? {
        guard let raw = try? Sys.socket(AF_INET, CInt(SOCK_DGRAM.rawValue)) else { return nil }
        let socket = FileDescriptor(adopting: raw)
        var destination = sockaddr_in(address: address, port: port)
        let connected = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket.rawValue, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0, let local = try? Sys.localAddress(socket.rawValue) else { return nil }
        return local.hostAddress
    }

    /// The IPv4 addresses of the machine's interfaces (`getifaddrs`).
    public static func interfaceAddresses() -> [UInt32] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var result: [UInt32] = []
        var node = list
        while let current = node {
            if let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) {
                result.append(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.hostAddress })
            }
            node = current.pointee.ifa_next
        }
        return result
    }
}
