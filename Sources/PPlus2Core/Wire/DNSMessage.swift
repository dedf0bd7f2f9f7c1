/// DNS messages as multicast DNS uses them (RFC 1035 wire format, RFC 6762
/// and 6763 conventions): the encoder and the strict decoder of the LAN
/// discovery side channel. Pure: bytes in, values out.
///
/// A received packet is hostile until decoded. The decoder refuses, with a
/// reason: packets over `maxBytes`, truncated fields, labels over 63 bytes,
/// names over 255 bytes, the reserved label types, and any compression
/// pointer that does not point strictly before the name part it is found in
/// (so a name is read in at most 255 steps: loops are impossible). Records of
/// classes other than IN are skipped.

/// A domain name: a list of labels. mDNS instance names may hold any UTF-8,
/// dots and spaces included, so labels are bytes. Names compare and hash
/// ignoring ASCII case, as DNS does.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    public static let maxLabelBytes = 63
    /// The most bytes a name takes on the wire, length bytes and final zero included.
    public static let maxWireBytes = 255

    public let labels: [[UInt8]]

    /// Nil if a label is empty or over 63 bytes, or the name over 255 bytes.
    public init?(labels: [[UInt8]]) {
        guard labels.allSatisfy({ (1...Self.maxLabelBytes).contains($0.count) }),
            labels.reduce(1, { $0 + 1 + $1.count }) <= Self.maxWireBytes
        else { return nil }
        self.labels = labels
    }

    /// A name written with dots, without escapes: `_pplus2._tcp.local`.
    public init?(_ dotted: String) {
        let parts = dotted.split(separator: ".", omittingEmptySubsequences: false)
        let labels = (parts.last == "" ? parts.dropLast() : parts[...]).map { Array($0.utf8) }
        self.init(labels: Array(labels))
    }

    /// This name with one more label in front: `instance` + `_pplus2._tcp.local`.
    public func prepending(_ label: [UInt8]) -> DNSName? {
        DNSName(labels: [label] + labels)
    }

    /// The name without its first label; nil for the root.
    public var parent: DNSName? {
        labels.isEmpty ? nil : DNSName(labels: Array(labels.dropFirst()))
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        lhs.labels.count == rhs.labels.count
            && zip(lhs.labels, rhs.labels).allSatisfy { a, b in
                a.count == b.count && zip(a, b).allSatisfy { asciiLowercase($0) == asciiLowercase($1) }
            }
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(asciiLowercase(byte)) }
        }
    }

    /// The name with dots between labels, each label `printable`.
    public var description: String {
        labels.map(Self.printable).joined(separator: ".") + "."
    }

    /// A label as text safe to print: a dot, a backslash and any control
    /// character escaped (`\.`, `\\`, `\007`); invalid UTF-8 shown as U+FFFD.
    public static func printable(_ label: [UInt8]) -> String {
        var text = ""
        for scalar in String(decoding: label, as: UTF8.self).unicodeScalars {
            switch scalar {
            case ".", "\\": text += "\\\(scalar)"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                let digits = String(scalar.value)
                text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}

@inline(__always)
private func asciiLowercase(_ byte: UInt8) -> UInt8 {
    (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
}

/// The record types discovery reads and writes.
public enum DNSType {
    public static let a: UInt16 = 1
    public static let ptr: UInt16 = 12
    public static let txt: UInt16 = 16
    public static let aaaa: UInt16 = 28
    public static let srv: UInt16 = 33
    public static let any: UInt16 = 255
}

public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: UInt16
    /// The mDNS "QU" bit: the asker would take a unicast answer.
    public var unicastResponse: Bool

    public init(name: DNSName, type: UInt16, unicastResponse: Bool = false) {
        self.name = name
        self.type = type
        self.unicastResponse = unicastResponse
    }
}

public enum DNSRecordData: Hashable, Sendable {
    case a(IPv4Address)
    case ptr(DNSName)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// Character strings, each at most 255 bytes.
    case txt([[UInt8]])
    /// A type this decoder does not look into: the raw data.
    case other([UInt8])
}

/// A resource record of class IN.
public struct DNSRecord: Hashable, Sendable {
    public var name: DNSName
    public var type: UInt16
    /// The mDNS cache-flush bit: this record replaces the others of its name and type.
    public var cacheFlush: Bool
    /// Seconds; 0 is a goodbye.
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: UInt16, cacheFlush: Bool = false, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.cacheFlush = cacheFlush
        self.ttl = ttl
        self.data = data
    }

    /// The record's data as uncompressed bytes: what the probe tie-break of
    /// RFC 6762 §8.2 compares, and what tells two records apart.
    public var canonicalData: [UInt8] {
        var encoder = DNSEncoder(compressing: false)
        encoder.writeData(data)
        return encoder.bytes
    }
}

public struct DNSMessage: Hashable, Sendable {
    /// The largest packet read or written (RFC 6762 §17).
    public static let maxBytes = 9000

    public var id: UInt16 = 0
    public var flags: UInt16 = 0
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authorities: [DNSRecord] = []
    public var additionals: [DNSRecord] = []

    public static let responseFlags: UInt16 = 0x8400  // QR and AA

    public init(
        id: UInt16 = 0,
        flags: UInt16 = 0,
        questions: [DNSQuestion] = [],
        answers: [DNSRecord] = [],
        authorities: [DNSRecord] = [],
        additionals: [DNSRecord] = []
    ) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    public var isResponse: Bool { flags & 0x8000 != 0 }
    public var opcode: UInt16 { (flags >> 11) & 0xF }
    public var responseCode: UInt16 { flags & 0xF }

    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case tooLarge(Int)
        case truncated
        case badLabel
        case nameTooLong
        case badPointer
        case badData(type: UInt16)

        public var description: String {
            switch self {
            case .tooLarge(let size): "packet of \(size) bytes, over \(DNSMessage.maxBytes)"
            case .truncated: "truncated"
            case .badLabel: "reserved label type"
            case .nameTooLong: "name over 255 bytes"
            case .badPointer: "compression pointer not pointing backwards"
            case .badData(let type): "malformed data for record type \(type)"
            }
        }
    }

    /// Decodes a whole packet; trailing bytes after the counted sections are ignored.
    public init(decoding bytes: some Collection<UInt8>) throws(DecodingError) {
        guard bytes.count <= Self.maxBytes else { throw .tooLarge(bytes.count) }
        var reader = DNSReader(Array(bytes))
        id = try reader.u16()
        flags = try reader.u16()
        let counts = [try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16()]
        for _ in 0..<counts[0] {
            let name = try reader.readName()
            let type = try reader.u16()
            let klass = try reader.u16()
            if klass & 0x7FFF == 1 || klass & 0x7FFF == 255 {
                questions.append(DNSQuestion(name: name, type: type, unicastResponse: klass & 0x8000 != 0))
            }
        }
        for section in 1...3 {
            for _ in 0..<counts[section] {
                guard let record = try reader.record() else { continue }
                switch section {
                case 1: answers.append(record)
                case 2: authorities.append(record)
                default: additionals.append(record)
                }
            }
        }
    }

    /// The packet, names compressed.
    public func encoded() -> [UInt8] {
        var encoder = DNSEncoder(compressing: true)
        let counts = [questions.count, answers.count, authorities.count, additionals.count]
        for value in [id, flags] + counts.map(UInt16.init) { encoder.u16(value) }
        for question in questions {
            encoder.writeName(question.name)
            encoder.u16(question.type)
            encoder.u16(question.unicastResponse ? 0x8001 : 1)
        }
        for record in answers + authorities + additionals { encoder.writeRecord(record) }
        return encoder.bytes
    }
}

/// Reads the fields of one packet, every read bounds-checked.
private struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8() throws(DNSMessage.DecodingError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSMessage.DecodingError) -> UInt16 {
        UInt16(try u8()) << 8 | UInt16(try u8())
    }

    mutating func u32() throws(DNSMessage.DecodingError) -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    mutating func take(_ count: Int) throws(DNSMessage.DecodingError) -> [UInt8] {
        guard count <= bytes.count - offset else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A name at the current offset, following compression pointers. Each
    /// pointer must point before the start of the part that holds it.
    mutating func readName() throws(DNSMessage.DecodingError) -> DNSName {
        var labels: [[UInt8]] = []
        var wireBytes = 1
        var position = offset
        var partStart = offset
        var resume: Int?
        while true {
            guard position < bytes.count else { throw .truncated }
            let length = Int(bytes[position])
            switch length >> 6 {
            case 0:
                if length == 0 {
                    offset = resume ?? position + 1
                    return DNSName(labels: labels)!  // lengths checked below
                }
                guard position + 1 + length <= bytes.count else { throw .truncated }
                wireBytes += 1 + length
                guard wireBytes <= DNSName.maxWireBytes else { throw .nameTooLong }
                labels.append(Array(bytes[position + 1...position + length]))
                position += 1 + length
            case 3:
                guard position + 1 < bytes.count else { throw .truncated }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < partStart else { throw .badPointer }
                if resume == nil { resume = position + 2 }
                position = target
                partStart = target
            default:
                throw .badLabel
            }
        }
    }

    /// One record; nil for a class other than IN (skipped).
    mutating func record() throws(DNSMessage.DecodingError) -> DNSRecord? {
        let name = try readName()
        let type = try u16()
        let klass = try u16()
        let ttl = try u32()
        let length = Int(try u16())
        guard length <= bytes.count - offset else { throw .truncated }
        let end = offset + length
        defer { offset = end }
        guard klass & 0x7FFF == 1 else { return nil }
        let data: DNSRecordData
        switch type {
        case DNSType.a:
            guard length == 4 else { throw .badData(type: type) }
            data = .a(IPv4Address(try u32()))
        case DNSType.ptr:
            data = .ptr(try readName())
        case DNSType.srv:
            let priority = try u16()
            let weight = try u16()
            let port = try u16()
            data = .srv(priority: priority, weight: weight, port: port, target: try readName())
        case DNSType.txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let count = Int(try u8())
                guard count <= end - offset else { throw .badData(type: type) }
                strings.append(try take(count))
            }
            data = .txt(strings.isEmpty ? [[]] : strings)  // an empty TXT means one empty string
        default:
            data = .other(try take(length))
        }
        guard offset == end else { throw .badData(type: type) }  // data must fill its length exactly
        return DNSRecord(name: name, type: type, cacheFlush: klass & 0x8000 != 0, ttl: ttl, data: data)
    }
}
