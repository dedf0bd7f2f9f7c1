/// The text of the hash cache a peer keeps in its folder
/// (`HiddenFile.hashCache`): a header line, then one line a file version,
/// `SIZE MODIFIED INODE SHA256 NAME` (modification time in nanoseconds since
/// the epoch; the name is the rest of the line). A version is the whole key:
/// an entry is only ever used for a file whose size, time and inode all match.
public enum HashCacheFormat {
    public static let header = "pplus2-hashes 1"

    /// One cached hash.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let size: Int64
        public let modified: Int64
        public let inode: UInt64
        public let sha256: SHA256Digest

        public init(name: String, size: Int64, modified: Int64, inode: UInt64, sha256: SHA256Digest) {
            self.name = name
            self.size = size
            self.modified = modified
            self.inode = inode
            self.sha256 = sha256
        }
    }

    public static func encode(_ entries: [Entry]) -> [UInt8] {
        var text = header + "\n"
        for entry in entries {
            text += "\(entry.size) \(entry.modified) \(entry.inode) \(entry.sha256) \(entry.name)\n"
        }
        return Array(text.utf8)
    }

    /// Why a cache file was not used.
    public enum Corruption: Error, Equatable, Sendable, CustomStringConvertible {
        case noHeader
        case badLine(Int)

        public var description: String {
            switch self {
            case .noHeader: "it does not start with \"\(header)\""
            case .badLine(let number): "line \(number) is not SIZE MODIFIED INODE SHA256 NAME"
            }
        }
    }

    /// The entries of a cache file; any malformed line makes the whole file corrupt.
    public static func decode(_ bytes: [UInt8]) throws(Corruption) -> [Entry] {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard let first = lines.first, first.elementsEqual(header.utf8) else { throw .noHeader }
        var entries: [Entry] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            guard let entry = parse(line) else { throw .badLine(index + 1) }
            entries.append(entry)
        }
        return entries
    }

    private static func parse(_ line: ArraySlice<UInt8>) -> Entry? {
        let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5,
            let size = Extension.number(fields[0]),
            let modified = Int64(String(decoding: fields[1], as: UTF8.self)),
            let inode = UInt64(String(decoding: fields[2], as: UTF8.self)),
            let sha256 = SHA256Digest(hex: String(decoding: fields[3], as: UTF8.self)),
            let name = SharedFileName.validated(utf8: fields[4])
        else { return nil }
        return Entry(name: name, size: size, modified: modified, inode: inode, sha256: sha256)
    }
}
