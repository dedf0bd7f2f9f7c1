import PPlus2Core
import PPlus2POSIX

/// The SHA-256 digests the peer knows, by file version, laid out compactly: an
/// array of (version, digest) records sorted by version (56 bytes a file, no
/// slack: 5.5 MB for 100,000 files, where a dictionary takes 15), and a small
/// dictionary of the newest ones, merged into the array a batch at a time.
struct HashTable: Sendable {
    typealias Record = (status: FileStatus, sha256: SHA256Digest)

    /// How many new digests wait in `recent` before a merge.
    static let batch = 4096

    private var sorted: [Record] = []
    private var recent: [FileStatus: SHA256Digest] = [:]

    init() {}

    /// A table of `records`, in any order; of two for one version, the last wins.
    init(_ records: [Record]) {
        for record in records { insert(record.sha256, for: record.status) }
        merge()
    }

    var count: Int { sorted.count + recent.count }

    subscript(status: FileStatus) -> SHA256Digest? {
        if let digest = recent[status] { return digest }
        let position = lowerBound(status)
        return position < sorted.count && sorted[position].status == status ? sorted[position].sha256 : nil
    }

    mutating func insert(_ sha256: SHA256Digest, for status: FileStatus) {
        let position = lowerBound(status)
        if position < sorted.count && sorted[position].status == status {
            sorted[position].sha256 = sha256
            return
        }
        recent[status] = sha256
        if recent.count >= Self.batch { merge() }
    }

    /// Forgets every version not in `current`, sorted by `precedes` (files
    /// changed or gone); returns how many.
    @discardableResult
    mutating func keep(onlySorted current: [FileStatus]) -> Int {
        merge()
        let total = sorted.count
        var kept = 0
        var cursor = 0
        for position in 0..<total {  // in place: no second array of records
            let record = sorted[position]
            while cursor < current.count && Self.precedes(current[cursor], record.status) { cursor += 1 }
            if cursor < current.count && current[cursor] == record.status {
                sorted[kept] = record
                kept += 1
            }
        }
        sorted.removeLast(total - kept)
        return total - kept
    }

    /// Every record, sorted by version.
    mutating func records() -> [Record] {
        merge()
        return sorted
    }

    private mutating func merge() {
        guard !recent.isEmpty else { return }
        let needed = sorted.count + recent.count
        if sorted.capacity < needed { sorted.reserveCapacity(needed + needed / 8) }  // an eighth spare, not double
        sorted += recent.map { (status: $0.key, sha256: $0.value) }
        sorted.sort { Self.precedes($0.status, $1.status) }
        recent = [:]
    }

    private func lowerBound(_ status: FileStatus) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if Self.precedes(sorted[middle].status, status) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// An order on versions: inode, then time, then size.
    static func precedes(_ left: FileStatus, _ right: FileStatus) -> Bool {
        (left.inode, left.modified, left.size) < (right.inode, right.modified, right.size)
    }
}
