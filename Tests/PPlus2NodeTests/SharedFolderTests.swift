import Glibc
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

@Suite("Shared folder index")
struct SharedFolderTests {
    /// The fast index must answer exactly what matching every name one by one answers.
    @Test func searchAgreesWithMatchingEveryName() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        var random = SeededGenerator(seed: 21)
        let pieces = ["report", "Report", "café", "CAFE", "notes", "ß", "ss", "x", "é", "e\u{301}", "-", " ", "2024"]
        var names = Set<String>()
        while names.count < 300 {
            let count = Int(random.next() % 4) + 1
            let name = (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            if SharedFileName.isValid(name) { names.insert(name) }
        }
        for name in names { try writeFile(temporary.file(name), []) }
        let folder = try SharedFolder(path: temporary.path)
        let offered = folder.offeredFiles().map(\.name)
        #expect(offered.count == TemporaryFolder.names(in: temporary.path).count)
        for query in ["", "report", "REPORT", "café", "CAFÉ", "cafe", "SS", "ß", "é", "x-", " 2", "zzz", "-", "e"] {
            let matcher = NameMatcher(query: query)
            let expected = offered.filter { matcher.matches($0) }
            #expect(folder.search(query, limit: 10_000) == expected, "query \(query)")
            #expect(folder.search(query, limit: 3) == Array(expected.prefix(3)), "query \(query), limit 3")
        }
    }

    /// Watched (inotify) or not (the fallback), the index follows additions,
    /// renames, rewrites and removals, and offers only regular files.
    @Test(arguments: [true, false])
    func followsTheFolderAsItChanges(watching: Bool) throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let index = try FolderIndex(directory: Folder.open(creatingIfMissing: temporary.path), watching: watching)
        try index.start()
        defer {
            index.stop()
            index.join()
        }
        let names = { (0..<index.snapshot.count).map { index.snapshot.name(at: $0) } }
        #expect(names().isEmpty)
        try writeFile(temporary.file("new.txt"), [1])
        #expect(waitUntil(timeout: 3) { names() == ["new.txt"] })
        #expect(rename(temporary.file("new.txt"), temporary.file("renamed.txt")) == 0)
        #expect(waitUntil(timeout: 3) { names() == ["renamed.txt"] })
        try writeFile(temporary.file("renamed.txt"), [1, 2, 3])  // rewritten in place
        #expect(waitUntil(timeout: 7) { index.snapshot.statuses.first?.size == 3 })
        #expect(mkdir(temporary.file("folder.txt"), 0o755) == 0)
        #expect(symlink("renamed.txt", temporary.file("link.txt")) == 0)
        try writeFile(temporary.file(".hidden.txt"), [1])
        try writeFile(temporary.file("second.txt"), [1])
        #expect(waitUntil(timeout: 3) { names() == ["renamed.txt", "second.txt"] })
        try removeFile(temporary.file("renamed.txt"))
        #expect(waitUntil(timeout: 3) { names() == ["second.txt"] })
        #expect(index.watchProblem == nil)
    }

    /// A folder replaced while watched (moved away, a new one at its path)
    /// still answers for the folder the peer opened, not the new one.
    @Test func theOpenedFolderIsTheOneFollowed() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let path = try temporary.folder("shared")
        let index = try FolderIndex(directory: Folder.open(creatingIfMissing: path))
        try index.start()
        defer {
            index.stop()
            index.join()
        }
        #expect(rename(path, temporary.file("moved")) == 0)
        _ = try temporary.folder("shared")
        try writeFile(temporary.file("shared/impostor.txt"), [1])
        try writeFile(temporary.file("moved/kept.txt"), [1])
        #expect(waitUntil(timeout: 3) { index.snapshot.count == 1 && index.snapshot.name(at: 0) == "kept.txt" })
    }
}

/// A taken name: the next free variant, chosen before any transfer, always
/// within 255 bytes, cut by whole characters.
@Suite struct FreeNameTests {
    @Test func variantsOfTheLongestNamesStillFit() throws {
        let long = String(repeating: "x", count: 251) + ".txt"
        let first = SharedFolder.candidateName(for: long, attempt: 1)
        #expect(first.utf8.count <= 255 && first.hasSuffix("x (1).txt"))
        let accented = String(repeating: "é", count: 125) + ".txt"  // 254 bytes
        let cut = SharedFolder.candidateName(for: accented, attempt: 12)
        #expect(cut.utf8.count <= 255 && cut.hasSuffix("é (12).txt") && SharedFileName.isValid(cut))
        #expect(SharedFolder.candidateName(for: "report.pdf", attempt: 2) == "report (2).pdf")

        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file(long), [1])
        try writeFile(temporary.file(first), [2])
        let folder = try SharedFolder(path: temporary.path)
        #expect(folder.freeName(for: long) == SharedFolder.candidateName(for: long, attempt: 2))
        #expect(folder.freeName(for: "new.txt") == "new.txt")
    }
}
