import Testing

@testable import PPlus2Core

@Suite("DNS messages: encoder and strict decoder")
struct DNSMessageTests {
    let instance = Discovery.serviceType.prepending(Array("Alice's files (2)".utf8))!
    let host = DNSName("pplus2-10-0-0-7-5000.local")!

    var announcement: DNSMessage {
        DNSMessage(
            flags: DNSMessage.responseFlags,
            answers: [
                DNSRecord(name: Discovery.serviceType, type: DNSType.ptr, ttl: 120, data: .ptr(instance)),
                DNSRecord(
                    name: instance,
                    type: DNSType.srv,
                    cacheFlush: true,
                    ttl: 120,
                    data: .srv(priority: 0, weight: 0, port: 5000, target: host)
                ),
                DNSRecord(name: instance, type: DNSType.txt, cacheFlush: true, ttl: 120, data: .txt(Discovery.txt)),
            ],
            additionals: [
                DNSRecord(name: host, type: DNSType.a, cacheFlush: true, ttl: 120, data: .a(IPv4Address(10, 0, 0, 7)))
            ]
        )
    }

    @Test func roundTripsWithCompression() throws {
        let bytes = announcement.encoded()
        let decoded = try DNSMessage(decoding: bytes)
        #expect(decoded == announcement)
        #expect(decoded.isResponse)
        // "_pplus2._tcp.local" is written once, then pointed to: far below the
        // size of the names written out in full.
        let uncompressed = 4 * (Discovery.serviceType.labels.reduce(1) { $0 + 1 + $1.count })
        #expect(bytes.count < 12 + uncompressed + 100)
        #expect(bytes.count(of: Array("_pplus2".utf8)) == 1)
    }

    @Test func namesCompareIgnoringASCIICase() {
        #expect(DNSName("_PPlus2._TCP.Local") == Discovery.serviceType)
        #expect(Set([DNSName("A.local")!, DNSName("a.LOCAL")!]).count == 1)
        #expect(DNSName("café.local") != DNSName("CAFÉ.local"))  // only ASCII folds, as in DNS
    }

    @Test func refusesBadNames() {
        #expect(DNSName(labels: [Array(repeating: 0x61, count: 64)]) == nil)
        #expect(DNSName(labels: [[]]) == nil)
        let long = Array(repeating: Array(repeating: UInt8(0x61), count: 63), count: 4)  // 4 × 64 + 1 = 257 bytes
        #expect(DNSName(labels: long) == nil)
        #expect(DNSName(labels: Array(long.prefix(3)) + [Array(repeating: 0x61, count: 61)]) != nil)  // 255 exactly
    }

    @Test func printsNetworkNamesSafely() {
        let name = DNSName(labels: [Array("a.b\\c\u{7}\u{1B}[2J".utf8), [0xFF], Array("local".utf8)])!
        #expect(name.description == "a\\.b\\\\c\\007\\027[2J.\u{FFFD}.local.")
    }

    /// A header with the given counts, then `body`.
    func packet(questions: UInt16 = 0, answers: UInt16 = 0, flags: UInt16 = 0x8400, _ body: [UInt8]) -> [UInt8] {
        [0, 0, UInt8(flags >> 8), UInt8(flags & 0xFF), 0, UInt8(questions), 0, UInt8(answers), 0, 0, 0, 0] + body
    }

    @Test func refusesCompressionLoopsAndForwardPointers() {
        // A question whose name is a pointer to itself (offset 12).
        #expect(throws: DNSMessage.DecodingError.badPointer) {
            try DNSMessage(decoding: packet(questions: 1, [0xC0, 12, 0, 1, 0, 1]))
        }
        // Two names pointing at each other: label "a" then a pointer back to
        // the first name's start, which is where this part started.
        #expect(throws: DNSMessage.DecodingError.badPointer) {
            try DNSMessage(decoding: packet(questions: 1, [1, 0x61, 0xC0, 12, 0, 1, 0, 1]))
        }
        // A pointer forward, into bytes not read yet.
        #expect(throws: DNSMessage.DecodingError.badPointer) {
            try DNSMessage(decoding: packet(questions: 1, [0xC0, 18, 0, 1, 0, 1, 1, 0x61, 0]))
        }
        // A backward pointer is fine: "b" + pointer to "a." at 12.
        let good = packet(questions: 2, [1, 0x61, 0, 0, 1, 0, 1, 1, 0x62, 0xC0, 12, 0, 1, 0, 1])
        let decoded = try? DNSMessage(decoding: good)
        #expect(decoded?.questions.map(\.name) == [DNSName("a")!, DNSName("b.a")!])
    }

    @Test func refusesMalformedFields() {
        // Reserved label types 0x40 and 0x80.
        #expect(throws: DNSMessage.DecodingError.badLabel) {
            try DNSMessage(decoding: packet(questions: 1, [0x41, 0, 0, 1, 0, 1]))
        }
        // A name of 127 one-byte labels plus root: 255 bytes is the limit; 128 labels is over.
        let labels: [UInt8] = Array(repeating: [UInt8(1), 0x61], count: 128).flatMap { $0 }
        #expect(throws: DNSMessage.DecodingError.nameTooLong) {
            try DNSMessage(decoding: packet(questions: 1, labels + [0, 0, 1, 0, 1]))
        }
        // Counts that promise more than the packet holds.
        #expect(throws: DNSMessage.DecodingError.truncated) {
            try DNSMessage(decoding: packet(questions: 200, [0, 0, 1, 0, 1]))
        }
        // An A record whose data is 5 bytes.
        let badA: [UInt8] = [0, 0, 1, 0, 1, 0, 0, 0, 120, 0, 5, 10, 0, 0, 7, 9]
        #expect(throws: DNSMessage.DecodingError.badData(type: 1)) {
            try DNSMessage(decoding: packet(answers: 1, badA))
        }
        // A TXT string running past its record.
        let badTXT: [UInt8] = [0, 0, 16, 0, 1, 0, 0, 0, 120, 0, 2, 5, 0x61]
        #expect(throws: DNSMessage.DecodingError.badData(type: 16)) {
            try DNSMessage(decoding: packet(answers: 1, badTXT))
        }
        // A record length past the end.
        #expect(throws: DNSMessage.DecodingError.truncated) {
            try DNSMessage(decoding: packet(answers: 1, [0, 0, 1, 0, 1, 0, 0, 0, 120, 0xFF, 0xFF, 1]))
        }
        #expect(throws: DNSMessage.DecodingError.tooLarge(9001)) {
            try DNSMessage(decoding: [UInt8](repeating: 0, count: 9001))
        }
    }

    @Test func skipsOtherClassesAndKeepsUnknownTypes() throws {
        let chaos: [UInt8] = [0, 0, 1, 0, 3, 0, 0, 0, 120, 0, 4, 1, 2, 3, 4]  // class CH
        let aaaa: [UInt8] = [0, 0, 28, 0x80, 1, 0, 0, 0, 120, 0, 16] + Array(repeating: 0xFE, count: 16)
        let decoded = try DNSMessage(decoding: packet(answers: 2, chaos + aaaa))
        #expect(decoded.answers.count == 1)
        #expect(decoded.answers[0].type == DNSType.aaaa && decoded.answers[0].cacheFlush)
        #expect(decoded.answers[0].data == .other([UInt8](repeating: 0xFE, count: 16)))
    }
}

extension Array where Element == UInt8 {
    func count(of needle: [UInt8]) -> Int {
        guard needle.count <= count else { return 0 }
        return (0...(count - needle.count)).filter { self[$0..<$0 + needle.count].elementsEqual(needle) }.count
    }
}
