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
final class FileHashes: ThreadOwner {
    private let folder: SharedFolder
    private let log: Log
    private let thread = ThreadHandle()
    private let sleeper = ConditionLock()
    /// Hashes by name bytes (two names Unicode calls equal are two files).
    private let table = Locked([[UInt8]: (status: FileStatus, sha256: SHA256Digest)]())

    init(folder: SharedFolder, log: Log) {
        self.folder = folder
        self.log = log
        loadCache()
    }

    /// The hash of `name` if it is known for exactly this version.
    func sha256(of name: String, status: FileStatus) -> SHA256Digest? {
        table.withLock { table in
            guard let known = table[Array(name.utf8)], known.status == status else { return nil }
            return known.sha256
        }
    }

    /// Records a hash computed elsewhere (a download just verified).
    func record(_ sha256: SHA256Digest, of name: String, status: FileStatus) {
        table.withLock { $0[Array(name.utf8)] = (status, sha256) }
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
        var current: [[UInt8]: FileStatus] = [:]
        for position in index.statuses.indices {
            current[Array(index.nameBytes(at: position))] = index.statuses[position]
        }
        let forgotten = table.withLock { table in
            let before = table.count
            table = table.filter { current[$0.key] == $0.value.status }  // gone or changed: forgotten
            return before - table.count
        }
        if forgotten > 0 && isFirst {
            log.warning("the hash cache held \(forgotten) entries for files changed or gone since: hashing again")
        }
        var changed = forgotten > 0
        var buffer: [UInt8] = []
        for (name, status) in current.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            guard !thread.isStopping else { break }
            if table.withLock({ $0[name]?.status == status }) { continue }
            let text = String(decoding: name, as: UTF8.self)
            guard let sha256 = hash(text, expecting: status, with: &buffer) else { continue }
            table.withLock { $0[name] = (status, sha256) }
            changed = true
        }
        return changed
    }

    /// The hash of `name`, or nil if it could not be read whole or changed meanwhile.
    private func hash(_ name: String, expecting status: FileStatus, with buffer: inout [UInt8]) -> SHA256Digest? {
        guard let opened = try? folder.directory.openRegularFileWithStatus(name), opened.status == status else {
            return nil
        }
        let hashed = FileDigest.sha256(of: opened.file, buffer: &buffer) { thread.isStopping }
        guard let hashed, hashed.size == status.size, (try? opened.file.status()) == status else { return nil }
        return hashed.digest
    }

    // MARK: The cache file

    private func loadCache() {
        let name = HiddenFile.hashCache.name
        let entries: [HashCacheFormat.Entry]
        do {
            guard let bytes = try folder.directory.readSmallFile(name, maxBytes: 256 << 20) else { return }
            entries = try HashCacheFormat.decode(bytes)
        } catch {
            log.warning("ignoring the hash cache \(name): \(error); the files will be hashed again")
            return
        }
        table.withLock { table in
            for entry in entries {
                let status = FileStatus(size: entry.size, modified: entry.modified, inode: entry.inode)
                table[Array(entry.name.utf8)] = (status, entry.sha256)
            }
        }
    }

    private func saveCache() {
        let entries = table.withLock { table in
            table.map { name, known in
                HashCacheFormat.Entry(
                    name: String(decoding: name, as: UTF8.self),
                    size: known.status.size,
                    modified: known.status.modified,
                    inode: known.status.inode,
                    sha256: known.sha256
                )
            }
        }
        do {
            try folder.directory.replaceSmallFile(
                HiddenFile.hashCache.name,
                with: HashCacheFormat.encode(entries.sorted { $0.name < $1.name }),
                draft: HiddenFile.hashCacheDraft(pid: ProcessControl.pid).name
            )
        } catch {
            log.warning("cannot save the hash cache in \(folder.path): \(error.reason)")
        }
    }
}

/// The SHA-256 block function of this machine: the CPU's SHA extensions where
/// it has them, else the portable one. Chosen once.
let sha256BlockFunction: SHA256.BlockFunction = HardwareSHA256.blockFunction ?? SHA256.portable
