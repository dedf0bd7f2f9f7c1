import PPlus2Core
import PPlus2POSIX

/// The offered files of a folder, laid out for search: an immutable value,
/// shared by every query at once, replaced when the folder changes.
///
/// The names, in byte order (so two names Unicode calls equal, but whose bytes
/// differ, are two entries), are cut into blocks of about a thousand
/// (`NameBlock`: flat arrays of names, folded forms and statuses; no object
/// per file). A query is one byte search (`ByteSearch`) over each block's folded forms: it
/// costs the size of the index, whatever its length or script. A change
/// rebuilds only the blocks it touches; the new index shares every other block
/// with the old one, which queries may still be reading. So a change to a
/// folder of 100,000 files copies about 100 KB, not the whole index, and the
/// peer's memory does not swing with each change.
struct NameIndex: Sendable {
    /// Names a block holds when built; a block grown past twice that is cut,
    /// one shrunk under a quarter joins its neighbour. (Tests use small ones.)
    static let defaultBlockSize = 1024

    let blockSize: Int
    private var blocks: [NameBlock] = []
    /// `ends[b]`: how many names the blocks up to `b` hold, `b` included.
    private var ends: [Int] = []

    var count: Int { ends.last ?? 0 }

    init(blockSize: Int = Self.defaultBlockSize) {
        self.blockSize = blockSize
    }

    private init(blocks: [NameBlock], blockSize: Int) {
        self.blockSize = blockSize
        self.blocks = blocks
        var total = 0
        ends = blocks.map { block in
            total += block.count
            return total
        }
    }

    /// An index of `files` (names already checked by `SharedFileName`). Of
    /// names listed twice, the last is kept.
    init(_ files: [(name: [UInt8], status: FileStatus)], blockSize: Int = Self.defaultBlockSize) {
        var builder = Builder(blockSize: blockSize)
        for file in files { builder.add(name: file.name, status: file.status) }
        self = builder.build()
    }

    /// Collects files in any order (a folder listing), then sorts them into an
    /// index once: one buffer of names while listing, not one array a name.
    struct Builder {
        private var names: [UInt8] = []
        private var starts: [UInt32] = [0]
        private var statuses: [FileStatus] = []
        private let blockSize: Int

        init(blockSize: Int = NameIndex.defaultBlockSize) {
            self.blockSize = blockSize
        }

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
            var blocks: [NameBlock] = []
            blocks.reserveCapacity(count / blockSize + 1)
            var block = NameBlock()
            for (rank, position) in order.enumerated() {
                let name = names[Int(starts[position])..<Int(starts[position + 1])]
                if rank + 1 < count {
                    let next = order[rank + 1]
                    if names[Int(starts[next])..<Int(starts[next + 1])].elementsEqual(name) { continue }
                }
                if block.count == 0 { reserve(&block, from: order[rank...].prefix(blockSize)) }
                block.append(name: name, status: statuses[position])
                if block.count == blockSize {
                    blocks.append(block)
                    block = NameBlock()
                }
            }
            if block.count > 0 { blocks.append(block) }
            return NameIndex(blocks: blocks, blockSize: blockSize)
        }

        /// Room for the names at `positions` (arrays grown by doubling would
        /// leave a block up to twice its size).
        private func reserve(_ block: inout NameBlock, from positions: ArraySlice<Int>) {
            let bytes = positions.reduce(0) { $0 + Int(starts[$1 + 1] - starts[$1]) }
            block.reserve(names: positions.count, bytes: bytes)
        }
    }

    // MARK: Reading

    /// The block holding `position`, and the position within it.
    private func locate(_ position: Int) -> (block: Int, offset: Int) {
        var low = 0
        var high = blocks.count - 1
        while low < high {
            let middle = (low + high) / 2
            if ends[middle] > position { high = middle } else { low = middle + 1 }
        }
        return (low, position - (low == 0 ? 0 : ends[low - 1]))
    }

    func name(at position: Int) -> String {
        String(decoding: nameBytes(at: position), as: UTF8.self)
    }

    func nameBytes(at position: Int) -> ArraySlice<UInt8> {
        let (block, offset) = locate(position)
        return blocks[block].nameBytes(at: offset)
    }

    func status(at position: Int) -> FileStatus {
        let (block, offset) = locate(position)
        return blocks[block].statuses[offset]
    }

    /// The name and status at `position` (one look-up for both).
    func entry(at position: Int) -> (name: String, status: FileStatus) {
        let (block, offset) = locate(position)
        let name = String(decoding: blocks[block].nameBytes(at: offset), as: UTF8.self)
        return (name, blocks[block].statuses[offset])
    }

    /// Every file's status, in name order (a view: nothing is copied).
    var statuses: Statuses { Statuses(index: self) }

    struct Statuses: RandomAccessCollection, Sendable {
        let index: NameIndex
        var startIndex: Int { 0 }
        var endIndex: Int { index.count }
        subscript(position: Int) -> FileStatus { index.status(at: position) }
    }

    /// The block that holds `name`, or would: the last whose first name is at
    /// or before it (the first block for a name before them all).
    private func block(for name: [UInt8]) -> Int {
        var low = 0
        var high = blocks.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if name.lexicographicallyPrecedes(blocks[middle].firstName) { high = middle - 1 } else { low = middle }
        }
        return low
    }

    /// The names inside the folder `folder` (a relative path), at any depth:
    /// in byte order they stand together after `folder/`, so one binary search
    /// finds the first and the walk stops at the first name not inside.
    func names(under folder: [UInt8]) -> [[UInt8]] {
        guard !blocks.isEmpty else { return [] }
        let prefix = folder + [UInt8(ascii: "/")]
        var found: [[UInt8]] = []
        var number = block(for: prefix)
        var position = blocks[number].lowerBound(prefix)
        while number < blocks.count {
            let block = blocks[number]
            while position < block.count {
                let name = block.nameBytes(at: position)
                guard name.starts(with: prefix) else { return found }
                found.append(Array(name))
                position += 1
            }
            number += 1
            position = 0
        }
        return found
    }

    /// The status of `name`, if the index holds it.
    func status(of name: [UInt8]) -> FileStatus? {
        blocks.isEmpty ? nil : blocks[block(for: name)].status(of: name)
    }

    /// The positions of the names that contain the folded query, in name
    /// order, at most `limit`; with `topLevelOnly`, only names of files
    /// directly inside the folder (what plain P+2 offers).
    func matches(_ matcher: NameMatcher, limit: Int, topLevelOnly: Bool = false) -> [Int] {
        let needle = matcher.foldedQueryUTF8
        if needle.isEmpty && !topLevelOnly { return Array(0..<min(limit, count)) }
        var hits: [Int] = []
        for (number, block) in blocks.enumerated() where hits.count < limit {
            let base = number == 0 ? 0 : ends[number - 1]
            if needle.isEmpty {
                for position in 0..<block.count where hits.count < limit && block.isTopLevel(position) {
                    hits.append(base + position)
                }
            } else {
                block.collectMatches(of: needle, base: base, limit: limit, topLevelOnly: topLevelOnly, into: &hits)
            }
        }
        return hits
    }

    // MARK: Changing

    /// A new index with `changes` applied: a name with a status is added or
    /// updated, a name with nil removed. Blocks no change falls in are shared.
    func applying(_ changes: [[UInt8]: FileStatus?]) -> NameIndex {
        let sorted = changes.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        guard !blocks.isEmpty else {
            return NameIndex(blocks: cut(NameBlock().applying(sorted[...])), blockSize: blockSize)
        }
        var result: [NameBlock] = []
        result.reserveCapacity(blocks.count + 1)
        var cursor = 0
        for (number, block) in blocks.enumerated() {
            // This block's changes: every name before the next block's first.
            let first = cursor
            if number + 1 < blocks.count {
                let next = blocks[number + 1].firstName
                while cursor < sorted.count && sorted[cursor].key.lexicographicallyPrecedes(next) { cursor += 1 }
            } else {
                cursor = sorted.count
            }
            guard first < cursor else {
                result.append(block)
                continue
            }
            add(block.applying(sorted[first..<cursor]), to: &result)
        }
        return NameIndex(blocks: result, blockSize: blockSize)
    }

    /// Appends a changed block: cut when grown too large, joined to the one
    /// before when shrunk too small, left out when empty.
    private func add(_ block: NameBlock, to result: inout [NameBlock]) {
        guard block.count > 0 else { return }
        if block.count < blockSize / 4, let last = result.last, last.count + block.count <= 2 * blockSize {
            result[result.count - 1] = last.followed(by: block)
        } else {
            result += cut(block)
        }
    }

    private func cut(_ block: NameBlock) -> [NameBlock] {
        guard block.count > 2 * blockSize else { return block.count == 0 ? [] : [block] }
        return stride(from: 0, to: block.count, by: blockSize).map {
            block.slice($0..<min($0 + blockSize, block.count))
        }
    }
}
