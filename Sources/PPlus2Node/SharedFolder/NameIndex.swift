import PPlus2Core
import PPlus2POSIX

/// The offered files of a folder, laid out for search: an immutable value,
/// shared by every query at once, replaced whole when the folder changes.
///
/// Everything lives in a few flat arrays, in byte order of the names (so two
/// names Unicode calls equal, but whose bytes differ, are two entries):
/// - the names' bytes one after another, and where each starts;
/// - their folded forms (`NameMatcher.foldedUTF8`), each followed by `\n`
///   (which no name holds), so one `memmem` pass finds a query in all of them:
///   a query costs the size of the index, whatever its length or script;
/// - each file's status (its version: size, modification time, inode).
///
/// No object per file: 100,000 names of 30 bytes take about 10 MB.
struct NameIndex: Sendable {
    private var names: [UInt8] = []
    private var nameStarts: [UInt32] = [0]
    private var folded: [UInt8] = []
    private var foldedStarts: [UInt32] = [0]
    private(set) var statuses: [FileStatus] = []

    var count: Int { statuses.count }

    init() {}

    /// An index of `files` (names already checked by `SharedFileName`). Of
    /// names listed twice, the last is kept.
    init(_ files: [(name: [UInt8], status: FileStatus)]) {
        var builder = Builder()
        for file in files { builder.add(name: file.name, status: file.status) }
        self = builder.build()
    }

    /// Collects files in any order (a folder listing), then sorts them into an
    /// index once: one buffer of names while listing, not one array a name.
    struct Builder {
        private var names: [UInt8] = []
        private var starts: [UInt32] = [0]
        private var statuses: [FileStatus] = []

        init() {}

        mutating func add(name: some Collection<UInt8>, status: FileStatus) {
            names += name
            starts.append(UInt32(names.count))
            statuses.append(status)
        }

        func build() -> NameIndex {
            let count = statuses.count
            var order = Array(0..<count)
            names.withUnsafeBufferPointer { bytes in
                let name = { (at: Int) in UnsafeBufferPointer(rebasing: bytes[Int(starts[at])..<Int(starts[at + 1])]) }
                // Stable: of two equal names, the one added last comes last, and is kept.
                order.sort {
                    name($0).lexicographicallyPrecedes(name($1)) || (name($0).elementsEqual(name($1)) && $0 < $1)
                }
            }
            var index = NameIndex()
            index.reserve(names: count, bytes: names.count)
            for (rank, position) in order.enumerated() {
                let name = names[Int(starts[position])..<Int(starts[position + 1])]
                if rank + 1 < count {
                    let next = order[rank + 1]
                    if names[Int(starts[next])..<Int(starts[next + 1])].elementsEqual(name) { continue }
                }
                index.append(name: name, status: statuses[position])
            }
            return index
        }
    }

    /// The name at `position`.
    func name(at position: Int) -> String {
        String(decoding: names[Int(nameStarts[position])..<Int(nameStarts[position + 1])], as: UTF8.self)
    }

    func nameBytes(at position: Int) -> ArraySlice<UInt8> {
        names[Int(nameStarts[position])..<Int(nameStarts[position + 1])]
    }

    /// The position of `name`, or where it would go.
    func lowerBound(_ name: [UInt8]) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if nameBytes(at: middle).lexicographicallyPrecedes(name) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The status of `name`, if the index holds it.
    func status(of name: [UInt8]) -> FileStatus? {
        let position = lowerBound(name)
        return position < count && nameBytes(at: position).elementsEqual(name) ? statuses[position] : nil
    }

    /// A new index with `changes` applied: a name with a status is added or
    /// updated, a name with nil removed. Unchanged runs are copied whole
    /// (a few `memcpy`s), so a change costs a copy of the index, not a rebuild.
    func applying(_ changes: [[UInt8]: FileStatus?]) -> NameIndex {
        var result = NameIndex()
        result.reserve(names: count + changes.count, bytes: names.count + changes.keys.reduce(0) { $0 + $1.count })
        var cursor = 0
        for (name, status) in changes.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let position = lowerBound(name)
            result.appendRun(of: self, cursor..<position)
            cursor = position
            if position < count && nameBytes(at: position).elementsEqual(name) { cursor += 1 }
            if let status { result.append(name: name, status: status) }
        }
        result.appendRun(of: self, cursor..<count)
        return result
    }

    /// The positions of the names that contain the folded query, in name
    /// order, at most `limit`.
    func matches(_ matcher: NameMatcher, limit: Int) -> [Int] {
        let needle = matcher.foldedQueryUTF8
        if needle.isEmpty { return Array(0..<min(limit, count)) }
        var hits: [Int] = []
        folded.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needle in
                var from = 0
                while hits.count < limit, let offset = ByteSearch.firstOffset(of: needle, in: haystack, from: from) {
                    let position = self.position(holding: offset)
                    hits.append(position)
                    from = Int(foldedStarts[position + 1])  // the next name
                }
            }
        }
        return hits
    }

    /// The name whose folded form holds the byte at `offset`: the last one starting at or before it.
    private func position(holding offset: Int) -> Int {
        var low = 0
        var high = count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if Int(foldedStarts[middle]) <= offset { low = middle } else { high = middle - 1 }
        }
        return low
    }

    // MARK: Building

    private mutating func reserve(names count: Int, bytes: Int) {
        names.reserveCapacity(bytes)
        folded.reserveCapacity(bytes + count)
        nameStarts.reserveCapacity(count + 1)
        foldedStarts.reserveCapacity(count + 1)
        statuses.reserveCapacity(count)
    }

    private mutating func append(name: some Collection<UInt8>, status: FileStatus) {
        names += name
        nameStarts.append(UInt32(names.count))
        folded += NameMatcher.foldedUTF8(String(decoding: name, as: UTF8.self))
        folded.append(UInt8(ascii: "\n"))
        foldedStarts.append(UInt32(folded.count))
        statuses.append(status)
    }

    /// Appends the entries `range` of `other`, shifting their offsets.
    private mutating func appendRun(of other: NameIndex, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        Self.appendRun(&names, &nameStarts, from: other.names, other.nameStarts, range)
        Self.appendRun(&folded, &foldedStarts, from: other.folded, other.foldedStarts, range)
        statuses += other.statuses[range]
    }

    private static func appendRun(
        _ bytes: inout [UInt8],
        _ starts: inout [UInt32],
        from otherBytes: [UInt8],
        _ otherStarts: [UInt32],
        _ range: Range<Int>
    ) {
        let first = otherStarts[range.lowerBound]
        let shift = Int64(bytes.count) - Int64(first)
        bytes += otherBytes[Int(first)..<Int(otherStarts[range.upperBound])]
        for position in (range.lowerBound + 1)...range.upperBound {
            starts.append(UInt32(Int64(otherStarts[position]) + shift))
        }
    }
}
