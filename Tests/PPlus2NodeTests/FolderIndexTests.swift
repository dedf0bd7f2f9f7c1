import Glibc
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// The live index against the folder itself: what it holds once the folder is
/// quiet must be what listing the folder afresh gives, whatever happened on
/// the way; and where the kernel's news is lost or ends, it lists again.
@Suite("Live folder index")
struct FolderIndexTests {
    /// Name to status, for comparing two indexes.
    static func entries(_ index: NameIndex) -> [String: FileStatus] {
        Dictionary(uniqueKeysWithValues: (0..<index.count).map { (index.name(at: $0), index.statuses[$0]) })
    }

    static func create(_ path: String, bytes: Int = 0) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        if bytes > 0 { _ = [UInt8](repeating: 7, count: bytes).withUnsafeBytes { write(fd, $0.baseAddress, bytes) } }
        close(fd)
    }

    /// A differential test: thousands of random creates, renames (onto free
    /// and taken names), removals and rewrites in place, with folders and
    /// hidden files among them; after every burst the index must settle on
    /// exactly what a full listing of the folder gives.
    @Test func agreesWithAFullListingThroughRandomChanges() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let directory = try Folder.open(creatingIfMissing: temporary.path)
        let index = try FolderIndex(directory: directory)
        try index.start()
        defer {
            index.stop()
            index.join()
        }
        var random = SeededGenerator(seed: 13)
        let name = { (random: inout SeededGenerator) in "f\(random.next() % 150).txt" }
        for burst in 0..<6 {
            for _ in 0..<500 {
                let path = temporary.file(name(&random))
                switch random.next() % 10 {
                case 0...2: Self.create(path, bytes: Int(random.next() % 64))
                case 3...4: _ = rename(path, temporary.file(name(&random)))
                case 5...6: _ = unlink(path)
                case 7: Self.create(path, bytes: Int(random.next() % 64) + 64)  // rewritten in place
                case 8: Self.create(temporary.file(".hidden-\(random.next() % 5)"), bytes: 1)
                default: _ = mkdir(temporary.file("dir-\(random.next() % 5).txt"), 0o755)
                }
            }
            let settled = waitUntil(timeout: 5) {
                Self.entries(index.snapshot) == Self.entries(FolderIndex.listing(of: directory))
            }
            #expect(settled, "after burst \(burst)")
            #expect(index.watchProblem == nil)
        }
        #expect(index.snapshot.count > 10)  // the folder did hold files
    }

    /// More events than the kernel queues (`fs.inotify.max_queued_events`)
    /// while the index is not reading: the news after the overflow is lost,
    /// so only listing the folder again can find the last file.
    @Test(.enabled(if: Self.queueLimit.map { $0 <= 100_000 } ?? false))
    func anOverflowedQueueIsFollowedByAFullListing() throws {
        let limit = try #require(Self.queueLimit)
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let directory = try Folder.open(creatingIfMissing: temporary.path)
        let index = try FolderIndex(directory: directory)  // watching, not reading yet
        for number in 0...limit { Self.create(temporary.file("n\(number)")) }  // at least limit + 1 events
        Self.create(temporary.file("late.txt"))  // its news is dropped: the queue is full
        try index.start()
        defer {
            index.stop()
            index.join()
        }
        #expect(waitUntil(timeout: 10) { index.snapshot.status(of: Array("late.txt".utf8)) != nil })
        #expect(index.snapshot.count == limit + 2)
    }

    static let queueLimit: Int? = {
        guard let text = readFile("/proc/sys/fs/inotify/max_queued_events") else { return nil }
        return Int(String(decoding: text, as: UTF8.self).filter(\.isNumber))
    }()

    /// The shared folder removed while watched: the index empties, the log
    /// says so once; a folder made again at its path is picked up within 2 s
    /// (listed, then watched: a file added later shows too), said once.
    @Test func aFolderRemovedAndMadeAgainIsPickedUp() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let path = try temporary.folder("shared")
        for name in ["a.txt", "b.txt", "c.txt"] { Self.create(path + "/" + name, bytes: 3) }
        let lines = Locked<[String]>([])
        let log = Log(sink: { line in lines.withLock { $0.append(line) } })
        let index = try FolderIndex(directory: Folder.open(creatingIfMissing: path), log: log)
        try index.start()
        defer {
            index.stop()
            index.join()
        }
        #expect(index.snapshot.count == 3)
        for name in ["a.txt", "b.txt", "c.txt"] { #expect(unlink(path + "/" + name) == 0) }
        #expect(rmdir(path) == 0)
        #expect(waitUntil(timeout: 3) { index.snapshot.count == 0 })
        #expect(waitUntil(timeout: 2) { lines.withLock { $0.contains { $0.contains("was removed") } } })

        // A file in its place is not a folder: still nothing, nothing more said.
        Self.create(path, bytes: 1)
        usleep(300_000)
        #expect(index.snapshot.count == 0)
        #expect(unlink(path) == 0)

        _ = try temporary.folder("shared")
        Self.create(path + "/back.txt", bytes: 1)
        #expect(waitUntil(timeout: 2) { index.snapshot.status(of: Array("back.txt".utf8)) != nil })
        Self.create(path + "/later.txt", bytes: 1)
        #expect(waitUntil(timeout: 1) { index.snapshot.status(of: Array("later.txt".utf8)) != nil })
        usleep(300_000)
        let said = lines.withLock { $0 }
        #expect(said.filter { $0.contains("was removed") }.count == 1, "\(said)")
        #expect(said.filter { $0.contains("is back:") }.count == 1, "\(said)")
    }
}

/// The hash cache is read within a bound: a junk cache far longer than the
/// folder's files is read no further than that, with a warning.
@Suite struct HashCacheBoundTests {
    @Test func aHugeJunkCacheIsReadOnlyUpToItsBound() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let path = try makeFolder(temporary, "a", files: ["one.txt": [1], "two.txt": [2]])
        var bytes = Array((HashCacheFormat.header + "\n").utf8)
        for index in 0..<50_000 {
            let entry = HashCacheFormat.Entry(
                name: "junk-\(index)",
                size: Int64(index),
                modified: 1,
                inode: UInt64(index),
                sha256: SHA256.hash(Array("\(index)".utf8))
            )
            HashCacheFormat.append(entry, to: &bytes)
        }
        try writeFile(path + "/" + HiddenFile.hashCache.name, bytes)
        let lines = Locked<[String]>([])
        let folder = try SharedFolder(path: path)
        _ = FileHashes(folder: folder, log: Log(sink: { line in lines.withLock { $0.append(line) } }))
        let limit = FileHashes.cacheEntriesPerFile * 2 + FileHashes.extraCacheEntries
        #expect(
            lines.withLock { $0 } == [
                "the hash cache \(HiddenFile.hashCache.name) holds more than \(limit) entries for 2 files: the rest is ignored"
            ]
        )
    }
}
