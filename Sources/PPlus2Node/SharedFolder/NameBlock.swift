import PPlus2Core
import PPlus2POSIX

/// A run of consecutive names of a `NameIndex` (about a thousand), laid out
/// flat: an immutable value that index versions share until a change touches
/// it. Everything lives in a few arrays, in byte order of the names:
/// - the names' bytes one after another, and where each starts;
/// - their folded forms (`NameMatcher.foldedUTF8`), each followed by `\n`
///   (which no name holds), so one byte search (`ByteSearch`) finds a query in all of them;
/// - each file's status (its version: size, modification time, inode).
struct NameBlock: Sendable {
    private var names: [UInt8] = []
    private var nameStarts: [UInt32] = [0]
    private var folded: [UInt8] = []
    private var foldedStarts: [UInt32] = [0]
    private(set) var statuses: [FileStatus] = []
    /// The longest folded form with its `\n`: a longer query cannot match here.
    private var longestFolded = 0

    var count: Int { statuses.count }

    init() {}

    /// The name at `position`.
    func nameBytes(at position: Int) -> ArraySlice<UInt8> {
        names[Int(nameStarts[position])..<Int(nameStarts[position + 1])]
    }

    var firstName: ArraySlice<UInt8> { nameBytes(at: 0) }

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

    /// The status of `name`, if the block holds it.
    func status(of name: [UInt8]) -> FileStatus? {
        let position = lowerBound(name)
        return position < count && nameBytes(at: position).elementsEqual(name) ? statuses[position] : nil
    }

    /// A new block with `changes` (sorted by name) applied: a name with a
    /// status is added or updated, a name with nil removed. Unchanged runs
    /// are copied whole (a few `memcpy`s).
    func applying(_ changes: ArraySlice<(key: [UInt8], value: FileStatus?)>) -> NameBlock {
        var result = NameBlock()
        result.reserve(names: count + changes.count, bytes: names.count + changes.reduce(0) { $0 + $1.key.count })
        var cursor = 0
        for (name, status) in changes {
            let position = lowerBound(name)
            result.appendRun(of: self, cursor..<position)
            cursor = position
            if position < count && nameBytes(at: position).elementsEqual(name) { cursor += 1 }
            if let status { result.append(name: name, status: status) }
        }
        result.appendRun(of: self, cursor..<count)
        return result
    }

    /// Appends to `hits` the positions (plus `base`) of the names whose folded
    /// form contains `needle`, until `hits` holds `limit`.
    func collectMatches(of needle: [UInt8], base: Int, limit: Int, topLevelOnly: Bool, into hits: inout [Int]) {
        guard needle.count < longestFolded else { return }  // no name here is that long
        folded.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needle in
                var from = 0
                while hits.count < limit, let offset = ByteSearch.firstOffset(of: needle, in: haystack, from: from) {
                    let position = self.position(holding: offset)
                    if !topLevelOnly || isTopLevel(position) { hits.append(base + position) }
                    from = Int(foldedStarts[position + 1])  // the next name
                }
            }
        }
    }

    /// Whether the name at `position` is a file directly inside the folder (no `/`).
    func isTopLevel(_ position: Int) -> Bool {
        !nameBytes(at: position).contains(UInt8(ascii: "/"))
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

    /// The entries `range` as a block of their own.
    func slice(_ range: Range<Int>) -> NameBlock {
        var result = NameBlock()
        result.appendRun(of: self, range)
        return result
    }

    /// This block followed by `other` (whose names all come after).
    func followed(by other: NameBlock) -> NameBlock {
        var result = NameBlock()
        result.reserve(names: count + other.count, bytes: names.count + other.names.count)
        result.appendRun(of: self, 0..<count)
        result.appendRun(of: other, 0..<other.count)
        return result
    }

    // MARK: Building

    mutating func reserve(names count: Int, bytes: Int) {
        names.reserveCapacity(bytes)
        folded.reserveCapacity(bytes + count)
        nameStarts.reserveCapacity(count + 1)
        foldedStarts.reserveCapacity(count + 1)
        statuses.reserveCapacity(count)
    }

    /// Appends a name that comes after every name the block holds.
    mutating func append(name: some Collection<UInt8>, status: FileStatus) {
        names += name
        nameStarts.append(UInt32(names.count))
        folded += NameMatcher.foldedUTF8(String(decoding: name, as: UTF8.self))
        folded.append(UInt8(ascii: "\n"))
        longestFolded = max(longestFolded, folded.count - Int(foldedStarts[foldedStarts.count - 1]))
        foldedStarts.append(UInt32(folded.count))
        statuses.append(status)
    }

    /// Appends the entries `range` of `other`, shifting their offsets.
    private mutating func appendRun(of other: NameBlock, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        _ = Self.appendRun(&names, &nameStarts, from: other.names, other.nameStarts, range)
        let longest = Self.appendRun(&folded, &foldedStarts, from: other.folded, other.foldedStarts, range)
        longestFolded = max(longestFolded, longest)
        statuses += other.statuses[range]
    }

    /// Returns the longest entry of the run.
    private static func appendRun(
        _ bytes: inout [UInt8],
        _ starts: inout [UInt32],
        from otherBytes: [UInt8],
        _ otherStarts: [UInt32],
        _ range: Range<Int>
    ) -> Int {
        let first = otherStarts[range.lowerBound]
        let shift = Int64(bytes.count) - Int64(first)
        bytes += otherBytes[Int(first)..<Int(otherStarts[range.upperBound])]
        var longest: UInt32 = 0
        for position in (range.lowerBound + 1)...range.upperBound {
            starts.append(UInt32(Int64(otherStarts[position]) + shift))
            longest = max(longest, otherStarts[position] - otherStarts[position - 1])
        }
        return Int(longest)
    }
}
