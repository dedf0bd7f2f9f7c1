/// An IPv4 address, held as a host-order 32-bit number.
///
/// The parser is strict: four decimal octets 0-255 separated by dots, with no
/// signs, spaces or leading zeros (`010` could mean 8 or 10 depending on who
/// reads it, so it is refused).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a host-order number: `127.0.0.1` is `0x7F00_0001`.
    public let value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public static let any = IPv4Address(0)
    public static let loopback = IPv4Address(127, 0, 0, 1)

    /// Parses dotted-decimal text such as `192.168.1.20`.
    public init?(_ text: some StringProtocol) {
        var utf8 = Array(text.utf8)[...]
        guard let value = Self.parse(&utf8), utf8.isEmpty else { return nil }
        self.value = value
    }

    /// Parses an address at the start of `bytes`, leaving the rest in `bytes`.
    static func parse(_ bytes: inout ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for octetIndex in 0..<4 {
            if octetIndex > 0 {
                guard bytes.first == UInt8(ascii: ".") else { return nil }
                bytes.removeFirst()
            }
            guard let octet = parseDecimal(&bytes, maxDigits: 3), octet <= 255 else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    /// `0.0.0.0/8`: "this host on this network", never a destination.
    public var isUnspecified: Bool { value >> 24 == 0 }
    /// `224.0.0.0/4`.
    public var isMulticast: Bool { value >> 28 == 0xE }
    /// `255.255.255.255`.
    public var isBroadcast: Bool { value == 0xFFFF_FFFF }
    /// `127.0.0.0/8`.
    public var isLoopback: Bool { value >> 24 == 127 }

    /// Whether a peer may be reached at this address (the contract refuses
    /// `0.0.0.0`, multicast and broadcast).
    public var isUnicastDestination: Bool { !isUnspecified && !isMulticast && !isBroadcast }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// A peer's name on the wire, `A.B.C.D:p`: the address it advertises and its
/// base port. It serves the peer list on `p`, queries on `p+1`, downloads on `p+2`.
///
/// This is the one identity parser of the project: the peer-list service, the
/// gossip client, the command line and the tests all go through it.
public struct PeerIdentity: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The highest base port: `p+2` must still be a port.
    public static let maxBasePort: UInt16 = 65533
    /// The longest valid identity, `255.255.255.255:65533`, in bytes.
    public static let maxTextBytes = 21

    public let address: IPv4Address
    public let port: UInt16

    /// A valid identity, or nil if the address is not a unicast destination or
    /// the port is outside 1...65533.
    public init?(address: IPv4Address, port: UInt16) {
        guard address.isUnicastDestination, (1...Self.maxBasePort).contains(port) else { return nil }
        self.address = address
        self.port = port
    }

    /// Parses `A.B.C.D:p` exactly: no spaces, signs, leading zeros or trailing bytes.
    public init?(_ text: some StringProtocol) {
        self.init(utf8: Array(text.utf8)[...])
    }

    /// Parses the bytes of one line (without its terminator).
    public init?(utf8 bytes: ArraySlice<UInt8>) {
        guard bytes.count <= Self.maxTextBytes else { return nil }
        var rest = bytes
        guard let address = IPv4Address.parse(&rest), rest.first == UInt8(ascii: ":") else { return nil }
        rest.removeFirst()
        guard let port = parseDecimal(&rest, maxDigits: 5), rest.isEmpty, port <= UInt32(UInt16.max) else {
            return nil
        }
        self.init(address: IPv4Address(address), port: UInt16(port))
    }

    public var peerListPort: UInt16 { port }
    public var queryPort: UInt16 { port + 1 }
    public var downloadPort: UInt16 { port + 2 }

    public var description: String { "\(address):\(port)" }

    public static func < (lhs: PeerIdentity, rhs: PeerIdentity) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}

/// Reads an unsigned decimal number of 1...`maxDigits` digits from the start of
/// `bytes`. A leading zero is allowed only for the number 0 itself.
func parseDecimal(_ bytes: inout ArraySlice<UInt8>, maxDigits: Int) -> UInt32? {
    var value: UInt32 = 0
    var digits = 0
    while let byte = bytes.first, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
        if digits == 1 && value == 0 { return nil }  // leading zero
        digits += 1
        guard digits <= maxDigits else { return nil }
        value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
        bytes.removeFirst()
    }
    return digits == 0 ? nil : value
}
