import PPlus2Core
import PPlus2POSIX

/// The SHA-256 of every offered file, by version, computed in the background.
///
/// One thread at the lowest priority walks the folder's index (within a second
/// of each change the index sees, files rewritten in place included), and hashes
/// each file whose version (size, modification time, inode) it has no hash for,
/// through one 1 MiB buffer. A file that changes while it is hashed is dropped
/// and hashed again later. Answers only read the table: hashing never delays
/// them, and a file not hashed yet is answered with `-`. The table is kept
/// across restarts in `HiddenFile.hashCache`; a corrupt cache is ignored with a
/// warning, and an entry is only ever used for the exact version it names.
///
/// The same read gives the SHA-256 of each piece (`PieceList`): kept for the
/// files of more than one piece (8 KB a GiB shared), in the cache too.
final class FileHashes: ThreadOwner {
    private let folder: SharedFolder
    private let log: Log
    private let thread = ThreadHandle()
    private let sleeper = ConditionLock()
    /// Hashes by version: a file's size, modification time and inode name its
    /// content (a name is not needed: a renamed file keeps its hash, and two
    /// names Unicode calls equal are two inodes). Small: no name a file.
    private let table = Locked(HashTable())
    /// The piece lists (chaining values) of the files of more than one piece, by version.
    private let pieceTable = Locked<[FileStatus: [SHA256Digest]]>([:])
    /// Hashes adopted from verified downloads since the cache was saved.
    private let adoptedSinceSave = Locked(false)
    /// Files read and hashed by the passes (tests).
    var filesHashed: Int { hashedCount.withLock { $0 } }
    private let hashedCount = Locked(0)

    init(folder: SharedFolder, log: Log) {
        self.folder = folder
        self.log = log
        loadCache()
    }

    /// The hash of the file if it is known for exactly this version.
    func sha256(of status: FileStatus) -> SHA256Digest? {
        table.withLock { $0[status] }
    }

    /// The piece list of the file if it is known for exactly this version.
    func pieces(of status: FileStatus) -> PieceList? {
        guard PieceList.count(forSize: status.size) > 1 else {
            return sha256(of: status).flatMap { PieceList(size: status.size, chain: [$0]) }
        }
        return pieceTable.withLock { $0[status] }.flatMap { PieceList(size: status.size, chain: $0) }
    }

    /// A file this peer just saved from a verified download: its SHA-256 and
    /// piece list were checked against the content as it landed, so it is
    /// not read again to be offered with them (kept in the cache at the next
    /// pass). A list that is not this size's is ignored.
    func adopt(_ status: FileStatus, sha256: SHA256Digest, pieces: PieceList?) {
        table.withLock { $0.insert(sha256, for: status) }
        if let pieces, pieces.size == status.size, pieces.count > 1 {
            pieceTable.withLock { $0[status] = pieces.chain }
        }
        adoptedSinceSave.withLock { $0 = true }
    }

    /// Whether this version still needs hashing (its hash, or its pieces).
    private func isKnown(_ status: FileStatus) -> Bool {
        guard table.withLock({ $0[status] != nil }) else { return false }
        return PieceList.count(forSize: status.size) == 1 || pieceTable.withLock { $0[status] != nil }
    }

    func start() throws(IOFailure) {
        try thread.start(name: "hashing") { [self] in run() }
    }

    func stop() {
        guard thread.requestStop() else { return }
        sleeper.withLock { sleeper.broadcast() }
    }

    func join() {
        thread.join()
    }

    // MARK: The thread

    private func run() {
        OSThread.lowerPriorityOfThisThread()
        var lastGeneration: Int?
        var isFirstPass = true
        while !thread.isStopping {
            let generation = folder.index.generation
            if generation != lastGeneration {
                lastGeneration = generation
                if pass(isFirst: isFirstPass) { saveCache() }
                isFirstPass = false
            }
            sleeper.withLock { _ = sleeper.wait(until: MonotonicClock.now + 1) }
        }
    }

    /// One walk over the folder's index; true if the table changed. The buffer
    /// exists only while a file is being hashed: an idle peer does not keep it.
    private func pass(isFirst: Bool) -> Bool {
        let index = folder.index.snapshot
        let current = index.statuses.sorted(by: HashTable.precedes)  // sorted here, not under the lock
        let forgotten = table.withLock { $0.keep(onlySorted: current) }  // changed or gone: forgotten
        pieceTable.withLock { pieces in
            pieces = pieces.filter { status, _ in
                var low = 0
                var high = current.count
                while low < high {  // the first position not before `status`
                    let middle = (low + high) / 2
                    if HashTable.precedes(current[middle], status) { low = middle + 1 } else { high = middle }
                }
                return low < current.count && current[low] == status
            }
        }
        if forgotten > 0 && isFirst {
            log.warning("the hash cache held \(forgotten) entries for files changed or gone since: hashing again")
        }
        var changed =
            forgotten > 0
            || adoptedSinceSave.withLock { adopted in
                defer { adopted = false }
                return adopted
            }
        var buffer: [UInt8] = []
        for (position, status) in index.statuses.enumerated() {
            guard !thread.isStopping else { break }
            if isKnown(status) { continue }
            guard let hashed = hash(index.name(at: position), expecting: status, with: &buffer) else { continue }
            hashedCount.withLock { $0 += 1 }
            table.withLock { $0.insert(hashed.sha256, for: status) }
            if hashed.pieces.count > 1 { pieceTable.withLock { $0[status] = hashed.pieces.chain } }
            changed = true
        }
        return changed
    }

    /// The hash and pieces of `name`, or nil if it could not be read whole or changed meanwhile.
    private func hash(
        _ name: String,
        expecting status: FileStatus,
        with buffer: inout [UInt8]
    ) -> (sha256: SHA256Digest, pieces: PieceList)? {
        guard let opened = try? folder.directory.openRegularFileWithStatus(name), opened.status == status else {
            return nil
        }
        let hashed = FileDigest.sha256AndPieces(of: opened.file, size: status.size, buffer: &buffer) {
            thread.isStopping
        }
        guard let hashed, (try? opened.file.status()) == status else { return nil }
        return hashed
    }

    // MARK: The cache file

    /// Entries read from the cache at most: this many times the files offered
    /// at start, plus `extraCacheEntries`. The peer writes one entry a file;
    /// a longer cache is junk, read no further (a 228 MiB one cost 4.7 s of CPU
    /// at start when it was read whole).
    static let cacheEntriesPerFile = 2
    static let extraCacheEntries = 1024

    /// Reads the cache a block at a time: a cache of 100,000 files is never
    /// held whole, only the table it fills; and no more of it than its bound.
    private func loadCache() {
        let name = HiddenFile.hashCache.name
        var decoder = HashCacheFormat.Decoder()
        var loaded = HashTable()
        var loadedPieces: [FileStatus: [SHA256Digest]] = [:]
        var corruption: HashCacheFormat.Corruption?
        let limit = Self.cacheEntriesPerFile * folder.index.snapshot.count + Self.extraCacheEntries
        var read = 0
        let add = { (entry: HashCacheFormat.Entry) in
            read += 1
            guard read <= limit else { return }
            let status = FileStatus(size: entry.size, modified: entry.modified, inode: entry.inode)
            loaded.insert(entry.sha256, for: status)
            if entry.pieces.count > 1 { loadedPieces[status] = entry.pieces }
        }
        do {
            let found = try folder.directory.readFile(name, maxBytes: 256 << 20) { block in
                do throws(HashCacheFormat.Corruption) {
                    try decoder.take(block, add)
                    return read <= limit
                } catch {
                    corruption = error
                    return false
                }
            }
            guard found else { return }
            if read > limit {
                log.warning(
                    "the hash cache \(name) holds more than \(limit) entries for \(folder.index.snapshot.count) files: the rest is ignored"
                )
            } else if corruption == nil {
                do throws(HashCacheFormat.Corruption) { try decoder.finish(add) } catch { corruption = error }
            }
        } catch {
            return log.warning("ignoring the hash cache \(name): \(error.reason); the files will be hashed again")
        }
        if let corruption {
            return log.warning("ignoring the hash cache \(name): \(corruption); the files will be hashed again")
        }
        table.withLock { $0 = loaded }
        pieceTable.withLock { $0 = loadedPieces }
    }

    /// Saves the hashes of the files offered now, by name (the cache stays
    /// readable: `size modified inode sha256 name` lines, and `+piece` lines), a block of about
    /// 1 MiB at a time.
    private func saveCache() {
        let index = folder.index.snapshot
        let known = table.withLock { $0 }
        let knownPieces = pieceTable.withLock { $0 }
        var position = 0
        var header: [UInt8]? = Array((HashCacheFormat.header + "\n").utf8)
        let blocks = AnyIterator<[UInt8]> {
            var block = header ?? []
            header = nil
            while block.count < 1 << 20 && position < index.count {
                let status = index.statuses[position]
                if let sha256 = known[status] {
                    let entry = HashCacheFormat.Entry(
                        name: index.name(at: position),
                        size: status.size,
                        modified: status.modified,
                        inode: status.inode,
                        sha256: sha256,
                        pieces: knownPieces[status] ?? []
                    )
                    HashCacheFormat.append(entry, to: &block)
                }
                position += 1
            }
            return block.isEmpty ? nil : block
        }
        do {
            try folder.directory.replaceFile(
                HiddenFile.hashCache.name,
                draft: HiddenFile.hashCacheDraft(pid: ProcessControl.pid).name,
                blocks: blocks
            )
        } catch {
            log.warning("cannot save the hash cache in \(folder.path): \(error.reason)")
        }
    }
}

/// The SHA-256 block function of this machine: the CPU's SHA extensions where
/// it has them, else the portable one. Chosen once.
let sha256BlockFunction: SHA256.BlockFunction = HardwareSHA256.blockFunction ?? SHA256.portable
