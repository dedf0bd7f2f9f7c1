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
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var result: [NetworkInterface] = []
        var node = list
        while let current = node {
            let entry = current.pointee
            if let address = entry.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) {
                let flags = Int32(bitPattern: entry.ifa_flags)
                result.append(
                    NetworkInterface(
                        name: String(cString: entry.ifa_name),
                        index: if_nametoindex(entry.ifa_name),
                        address: address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            $0.pointee.hostAddress
                        },
                        isUp: flags & Int32(IFF_UP) != 0,
                        isLoopback: flags & Int32(IFF_LOOPBACK) != 0,
                        supportsMulticast: flags & Int32(IFF_MULTICAST) != 0
                    )
                )
            }
            node = entry.ifa_next
        }
        return result
    }

    /// The host name of this machine (`gethostname`), at most 255 bytes.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, 255) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
