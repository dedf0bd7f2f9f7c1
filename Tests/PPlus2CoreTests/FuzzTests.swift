import Testing

@testable import PPlus2Core

/// Seeded random and mutation tests of every parser that reads network bytes.
/// Each run is reproducible (fixed seeds); each asserts invariants that must
/// hold for any input: no crash, output always valid, bounds respected.
@Suite("Parsers under random and mutated input")
struct FuzzTests {
    /// Inputs per parser. Several hundred thousand in all, a few seconds in a debug build.
    static let iterations = 60_000

    static let seeds: [[UInt8]] =
        [
            "127.0.0.1:5000\n", "10.0.0.7:65533\r\n", "255.255.255.254:1", "report.pdf\n", "café.txt\r\n",
            "a\nb\nc\n", "../etc/passwd\n", ".hidden\n", "\n", "", "0.0.0.0:5000\n", "224.0.0.251:5353\n",
            "1.2.3.4:05000\n", "x\u{0}y\n", "日本語.md\n",
            "\u{1}find report\n", "\u{1}get 0 - - report.pdf\n",
            "\u{1}get 1048576 4096 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 a b.txt\n",
            "\u{1}P+2x/1 1048576 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
            "\u{1}P+2x/1\n5 - a.txt\n0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 e.txt\n",
            "pplus2-hashes 1\n5 17 42 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 a.txt\n",
        ].map { Array($0.utf8) } + [[0xFF, 0xFE, 0x0A], [0xC3, 0x0A], [0xED, 0xA0, 0x80]]

    static let tokens: [[UInt8]] = [
        [0x0A], [0x0D], [0x0D, 0x0A], [0x00], [0x2E], [0x2F], [0x2E, 0x2E, 0x2F], [0x3A], [0xFF], [0xC3, 0xA9],
        Array("255".utf8), Array("65533".utf8), Array("65534".utf8), Array("0".utf8), [0x7F], [0x09], [0x20],
        [0x01], Array("-".utf8), Array("9223372036854775807".utf8), Array("9223372036854775808".utf8), [0xC2, 0x9B],
    ]

    /// One random mutation of a seed: flip, insert, delete, duplicate, splice a token.
    static func mutate(_ input: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0...(random.next() % 4) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count + 1))
            switch random.next() % 6 {
            case 0 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
            case 1:
                bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            case 2 where !bytes.isEmpty:
                bytes.remove(at: min(position, bytes.count - 1))
            case 3:
                bytes.insert(contentsOf: tokens[Int(random.next() % UInt64(tokens.count))], at: position)
            case 4 where bytes.count < 20_000:
                bytes.insert(contentsOf: bytes.prefix(Int(random.next() % 64)), at: position)
            default:
                bytes = (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
        }
        return bytes
    }

    static func inputs(seed: UInt64, count: Int = iterations) -> some Sequence<[UInt8]> {
        var random = SeededGenerator(seed: seed)
        return (0..<count).lazy.map { _ in
            mutate(seeds[Int(random.next() % UInt64(seeds.count))], &random)
        }
    }

    /// What the contract says a request line is, written out plainly: the model
    /// that the streaming reader must agree with.
    static func referenceLine(_ bytes: [UInt8]) -> RequestLineReader.Outcome {
        var line = bytes.firstIndex(of: 0x0A).map { Array(bytes[..<$0]) } ?? bytes
        if line.last == 0x0D { line.removeLast() }
        if line.count > 4096 { return .invalid(.tooLong) }
        if line.contains(0) { return .invalid(.containsNUL) }
        guard let text = String(validating: line, as: UTF8.self) else { return .invalid(.notUTF8) }
        return .line(text)
    }

    @Test func requestLineReaderAgreesWithTheContract() {
        var random = SeededGenerator(seed: 11)
        var count = 0
        for input in Self.inputs(seed: 1) {
            var reader = RequestLineReader()
            var outcome = RequestLineReader.Outcome.needMore
            var offset = 0
            while offset < input.count && outcome == .needMore {
                let end = min(input.count, offset + 1 + Int(random.next() % 64))
                outcome = reader.append(input[offset..<end])
                offset = end
            }
            if outcome == .needMore { outcome = reader.finish() }
            #expect(reader.bufferedCount <= RequestLineReader.maxLineBytes + 1)
            let expected = Self.referenceLine(input)
            if outcome != expected {
                Issue.record("input \(input.prefix(40)): got \(outcome), expected \(expected)")
                return
            }
            if case .line(let text) = outcome {
                #expect(!text.utf8.contains(0x0A) && !text.utf8.contains(0) && text.utf8.count <= 4096)
            }
            count += 1
        }
        #expect(count == Self.iterations)
    }

    @Test func identityParserOnlyAcceptsCanonicalValidIdentities() {
        var accepted = 0
        for input in Self.inputs(seed: 2) {
            var line = input[...]
            if let newline = line.firstIndex(of: 0x0A) { line = line[..<newline] }
            guard let identity = PeerIdentity(utf8: line) else { continue }
            accepted += 1
            // Accepted means: printed back byte for byte, a unicast address, p+2 a port.
            #expect(Array(identity.description.utf8) == Array(line))
            #expect(identity.address.isUnicastDestination)
            #expect((1...65533).contains(identity.port))
        }
        #expect(accepted > 0)

        var random = SeededGenerator(seed: 3)
        for _ in 0..<Self.iterations {
            let address = IPv4Address(UInt32(truncatingIfNeeded: random.next()))
            let port = UInt16(truncatingIfNeeded: random.next())
            let identity = PeerIdentity(address: address, port: port)
            #expect((identity != nil) == (address.isUnicastDestination && (1...65533).contains(port)))
            if let identity { #expect(PeerIdentity(identity.description) == identity) }
        }
    }

    @Test func nameRulesNeverLetThroughAnEscapingName() {
        for input in Self.inputs(seed: 4) {
            guard let name = SharedFileName.validated(utf8: input) else { continue }
            let bytes = Array(name.utf8)
            #expect(bytes == input)
            #expect(!bytes.isEmpty && bytes.count <= 255 && bytes[0] != 0x2E)
            #expect(!bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x2F })
        }
    }

    @Test func answerParsersKeepOnlyValidBoundedOutput() {
        var random = SeededGenerator(seed: 5)
        for _ in 0..<(Self.iterations / 20) {
            // An answer: a random number of mutated lines glued together.
            var answer: [UInt8] = []
            for _ in 0..<(random.next() % 200) {
                answer += Self.mutate(Self.seeds[Int(random.next() % UInt64(Self.seeds.count))], &random)
                if random.next() % 3 > 0 { answer.append(0x0A) }
            }
            let peers = PeerListAnswer(parsing: answer)
            #expect(peers.peers.count <= PeerListAnswer.maxLines)
            #expect(Set(peers.peers).count == peers.peers.count)
            #expect(peers.peers.allSatisfy { PeerIdentity($0.description) == $0 })

            let names = QueryAnswer(parsing: answer)
            #expect(names.names.count <= QueryAnswer.maxLines)
            #expect(Set(names.names).count == names.names.count)
            #expect(names.names.allSatisfy(SharedFileName.isValid))
        }
    }
    // MARK: DNS (LAN discovery)

    /// Real packets: what our responder and browser send, and what other
    /// implementations send (compressed names everywhere, AAAA, NSEC).
    static var dnsSeeds: [[UInt8]] {
        let me = PeerIdentity("10.0.0.7:5000")!
        var responder = MulticastDNSResponder(identity: me, name: "alice", ttl: 120, now: 0, seed: 1)
        var packets: [DNSMessage] = []
        var now = 0.0
        while now < 3 {
            packets += responder.due(now: now).map(\.message)
            now += 0.05
        }
        packets += responder.stop().map(\.message)
        var browser = MulticastDNSBrowser(now: 0, seed: 1)
        _ = browser.handle(packets.last { $0.isResponse && $0.answers.allSatisfy { $0.ttl > 0 } }!, now: 1)
        if let query = browser.due(now: 1).query { packets.append(query.message) }
        let foreign: [UInt8] = [
            0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 1,
            4, 0x5F, 0x61, 0x62, 0x63, 4, 0x5F, 0x74, 0x63, 0x70, 5, 0x6C, 0x6F, 0x63, 0x61, 0x6C, 0,
            0, 12, 0, 1, 0, 0, 0x11, 0x94, 0, 5, 2, 0x68, 0x69, 0xC0, 12,
            0xC0, 41, 0, 28, 0x80, 1, 0, 0, 0, 120, 0, 16, 0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7,
            0xC0, 41, 0, 47, 0x80, 1, 0, 0, 0, 120, 0, 6, 0xC0, 41, 0, 2, 0, 8,
        ]
        return packets.map { $0.encoded() } + [foreign]
    }

    static let dnsTokens: [[UInt8]] = [
        [0xC0, 0x0C], [0xC0, 0x00], [0xC0, 0xFF], [0x3F], [0x40], [0x80], [0x00], [0xFF, 0xFF], [0x00, 0x21],
        [0x00, 0x10], [0x00, 0x0C], [0x00, 0x01], [0x80, 0x01], [0x00, 0x00, 0x00, 0x00],
    ]

    @Test func dnsDecoderRefusesOrRoundTripsAndTheAgentsStayBounded() {
        var random = SeededGenerator(seed: 21)
        let seeds = Self.dnsSeeds
        var decoded = 0
        var responder = MulticastDNSResponder(
            identity: PeerIdentity("10.0.0.8:5000")!,
            name: "alice",
            ttl: 120,
            now: 0,
            seed: 2
        )
        var browser = MulticastDNSBrowser(now: 0, seed: 3)
        for index in 0..<Self.iterations {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0...(random.next() % 4) {
                let position = Int(random.next() % UInt64(bytes.count + 1))
                switch random.next() % 5 {
                case 0 where !bytes.isEmpty:
                    bytes[min(position, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
                case 1: bytes.insert(contentsOf: Self.dnsTokens[Int(random.next() % 14)], at: position)
                case 2 where !bytes.isEmpty: bytes.remove(at: min(position, bytes.count - 1))
                case 3 where position < bytes.count:
                    bytes[position] = UInt8(truncatingIfNeeded: random.next())
                default: bytes = Array(bytes.prefix(position))
                }
            }
            guard let message = try? DNSMessage(decoding: bytes) else { continue }
            decoded += 1
            // Whatever decodes, encodes to a packet that decodes to the same message.
            let again = try? DNSMessage(decoding: message.encoded())
            if again != message {
                Issue.record("round trip failed for \(bytes)")
                return
            }
            // And the state machines take it without growing past their bounds.
            let now = Double(index) * 0.01
            _ = responder.handle(message, from: IPv4Address(10, 0, 0, 9), port: 5353, now: now)
            _ = browser.handle(message, now: now)
            for packet in responder.due(now: now) { #expect(packet.message.encoded().count <= DNSMessage.maxBytes) }
            if let query = browser.due(now: now).query { #expect(query.message.encoded().count <= 1500) }
            #expect(browser.trackedCount <= MulticastDNSBrowser.maxInstances)
        }
        #expect(decoded > Self.iterations / 10)
    }

    /// The extension's parsers accept only what they would write themselves.
    @Test func extensionParsersAcceptOnlyCanonicalForms() {
        for bytes in Self.inputs(seed: 11) {
            let line = bytes.firstIndex(of: 0x0A).map { Array(bytes[..<$0]) } ?? bytes
            if let text = String(validating: line, as: UTF8.self), let request = Extension.parse(text) {
                switch request {
                case .find(let query): #expect(Extension.findRequest(query) == text)
                case .get(let offset, let length, let sha256, let name):
                    #expect(offset >= 0 && (length ?? 0) >= 0 && !name.isEmpty)
                    #expect(Extension.getRequest(offset: offset, length: length, sha256: sha256, name: name) == text)
                case .pieces(let sha256, let name):
                    #expect(!name.isEmpty && Extension.piecesRequest(sha256: sha256, name: name) == text)
                }
            }
            for size in [Int64(bytes.count), 5 << 20] {
                if let pieces = Extension.parsePieceLines(bytes, size: size) {
                    #expect(Array(Extension.pieceLines(pieces).map { $0 + "\n" }.joined().utf8) == bytes)
                }
            }
            if let header = Extension.parseGetHeader(line) {
                #expect(header.size >= 0)
                #expect(Array(Extension.getHeader(size: header.size, sha256: header.sha256).utf8) == line)
            }
            if let answer = QueryAnswer(parsingExtended: bytes) {
                #expect(answer.isExtended && answer.entries.count <= QueryAnswer.maxLines)
                for entry in answer.entries {
                    #expect(SharedPath.isValid(entry.name) && (entry.size ?? -1) >= 0)
                }
            }
            if let entries = try? HashCacheFormat.decode(bytes) {
                #expect((try? HashCacheFormat.decode(HashCacheFormat.encode(entries))) == entries)
            }
        }
    }
}
