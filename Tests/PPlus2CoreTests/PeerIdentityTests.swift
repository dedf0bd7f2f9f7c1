import Testing

@testable import PPlus2Core

@Suite("Identity parser")
struct PeerIdentityTests {
    @Test(arguments: [
        ("127.0.0.1:5000", "127.0.0.1", 5000),
        ("10.0.0.7:1", "10.0.0.7", 1),
        ("255.255.255.254:65533", "255.255.255.254", 65533),
        ("1.0.0.0:80", "1.0.0.0", 80),
    ])
    func parsesValidIdentities(text: String, address: String, port: Int) throws {
        let identity = try #require(PeerIdentity(text))
        #expect(identity.address.description == address)
        #expect(Int(identity.port) == port)
        #expect(identity.description == text)
        #expect(identity.queryPort == identity.port + 1 && identity.downloadPort == identity.port + 2)
    }

    @Test(arguments: [
        "",  // empty
        "127.0.0.1",  // no port
        "127.0.0.1:",  // empty port
        ":5000",  // no address
        "127.0.0.1:0",  // port 0
        "127.0.0.1:65534",  // p+2 would not be a port
        "127.0.0.1:65536",
        "127.0.0.1:99999999999",
        "0.0.0.0:5000",  // unspecified
        "0.1.2.3:5000",  // 0/8
        "224.0.0.1:5000",  // multicast
        "239.255.255.255:5000",
        "255.255.255.255:5000",  // broadcast
        "256.0.0.1:5000",  // octet out of range
        "1.2.3:5000",  // three octets
        "1.2.3.4.5:5000",  // five octets
        "01.2.3.4:5000",  // leading zero
        "1.2.3.4:05000",
        "+1.2.3.4:5000",  // sign
        "1.2.3.4:+5000",
        "-1.2.3.4:5000",
        " 1.2.3.4:5000",  // spaces
        "1.2.3.4:5000 ",
        "1.2.3.4 :5000",
        "localhost:5000",  // a name
        "[::1]:5000",  // IPv6
        "::1:5000",
        "1.2.3.4:5000:6",
        "1.2.3.4:5000\n",
        "1..3.4:5000",
        "١.٢.٣.٤:5000",  // non-ASCII digits
    ])
    func refusesInvalidIdentities(text: String) {
        #expect(PeerIdentity(text) == nil, "accepted \(text.debugDescription)")
    }

    @Test func refusesAddressesThatCannotBePeers() {
        #expect(PeerIdentity(address: .any, port: 5000) == nil)
        #expect(PeerIdentity(address: IPv4Address(224, 0, 0, 251), port: 5000) == nil)
        #expect(PeerIdentity(address: IPv4Address(0xFFFF_FFFF), port: 5000) == nil)
        #expect(PeerIdentity(address: .loopback, port: 0) == nil)
        #expect(PeerIdentity(address: .loopback, port: 65533) != nil)
    }

    @Test func ordersAndHashesByValue() {
        let a = PeerIdentity("10.0.0.1:5000")!
        let b = PeerIdentity("10.0.0.1:5001")!
        let c = PeerIdentity("10.0.0.2:1")!
        #expect([c, b, a].sorted() == [a, b, c])
        #expect(Set([a, PeerIdentity("10.0.0.1:5000")!]).count == 1)
    }
}
