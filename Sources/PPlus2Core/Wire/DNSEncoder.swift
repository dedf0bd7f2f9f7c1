/// Writes a packet; with `compressing`, a name suffix written before is
/// replaced by a pointer to it.
struct DNSEncoder {
    private(set) var bytes: [UInt8] = []
    private let compressing: Bool
    private var written: [DNSName: Int] = [:]

    init(compressing: Bool) { self.compressing = compressing }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(truncatingIfNeeded: value))
    }

    mutating func writeName(_ name: DNSName, compress: Bool = true) {
        for index in name.labels.indices {
            let suffix = DNSName(labels: Array(name.labels[index...]))!
            if compressing && compress, let earlier = written[suffix] {
                u16(0xC000 | UInt16(earlier))
                return
            }
            if compressing && bytes.count < 0x3FFF { written[suffix] = bytes.count }
            bytes.append(UInt8(name.labels[index].count))
            bytes.append(contentsOf: name.labels[index])
        }
        bytes.append(0)
    }

    mutating func writeRecord(_ record: DNSRecord) {
        writeName(record.name)
        u16(record.type)
        u16(record.cacheFlush ? 0x8001 : 1)
        u32(record.ttl)
        let lengthAt = bytes.count
        u16(0)
        writeData(record.data)
        let length = bytes.count - lengthAt - 2
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(truncatingIfNeeded: length)
    }

    mutating func writeData(_ data: DNSRecordData) {
        switch data {
        case .a(let address): u32(address.value)
        case .ptr(let name): writeName(name)
        case .srv(let priority, let weight, let port, let target):
            u16(priority)
            u16(weight)
            u16(port)
            writeName(target, compress: false)  // RFC 2782: not compressed, for old readers
        case .txt(let strings):
            for string in strings.isEmpty ? [[]] : strings {
                let kept = string.prefix(255)
                bytes.append(UInt8(kept.count))
                bytes.append(contentsOf: kept)
            }
        case .other(let raw): bytes.append(contentsOf: raw.prefix(0xFFFF))
        }
    }
}
