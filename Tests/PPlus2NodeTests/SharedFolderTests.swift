import PPlus2Core
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

    @Test func seesFilesAddedAndRemoved() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folder = try SharedFolder(path: temporary.path)
        #expect(folder.search("", limit: 10).isEmpty)
        try writeFile(temporary.file("new.txt"), [1])
        #expect(folder.search("new", limit: 10) == ["new.txt"])
        try removeFile(temporary.file("new.txt"))
        #expect(folder.search("new", limit: 10).isEmpty)
    }
}
