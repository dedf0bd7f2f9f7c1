import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// The index's merge must give what building it afresh gives, and its byte
/// search what matching every name one by one gives.
@Suite struct NameIndexTests {
    let pieces = [
        "report", "Report", "café", "CAFE", "e\u{301}", "ß", "ss", "x", "-", " ", "2024", "가", "\u{1100}\u{1161}",
    ]

    func randomName(_ random: inout SeededGenerator) -> [UInt8] {
        let count = Int(random.next() % 3) + 1
        return Array((0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined().utf8)
    }

    func status(_ value: UInt64) -> FileStatus {
        FileStatus(size: Int64(value % 1000), modified: Int64(value >> 2), inode: value)
    }

    /// With blocks of 3 and 8 names the changes cut, join and drop blocks
    /// all the time; with the default size the index is one or two blocks.
    @Test(arguments: [3, 8, NameIndex.defaultBlockSize])
    func changesAppliedEqualAnIndexBuiltAfresh(blockSize: Int) {
        var random = SeededGenerator(seed: 5)
        var model: [[UInt8]: FileStatus] = [:]
        var index = NameIndex(blockSize: blockSize)
        for step in 0..<300 {
            var changes: [[UInt8]: FileStatus?] = [:]
            let removing = (150..<225).contains(step)  // mostly removals: blocks shrink and join
            for _ in 0..<Int(random.next() % 12) + 1 {
                let name = randomName(&random)
                let new: FileStatus? = random.next() % 8 < (removing ? 7 : 3) ? nil : status(random.next())
                changes[name] = .some(new)
                model[name] = new
            }
            index = index.applying(changes)
            let fresh = NameIndex(model.map { (name: $0.key, status: $0.value) }, blockSize: blockSize)
            #expect(index.count == model.count)
            #expect((0..<index.count).map { index.name(at: $0) } == (0..<fresh.count).map { fresh.name(at: $0) })
            #expect(Array(index.statuses) == Array(fresh.statuses))
            #expect(model.allSatisfy { index.status(of: $0.key) == $0.value })
        }
        #expect(index.count > 10)
        // Names in byte order, each once.
        let names = (0..<index.count).map { Array(index.nameBytes(at: $0)) }
        #expect(zip(names, names.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) })
        // The longest name as a query matches itself (a block skips only queries longer than its names).
        let longest = (0..<index.count).map { index.name(at: $0) }.max { $0.utf8.count < $1.utf8.count } ?? ""
        for query in ["", "report", "CAFÉ", "cafe", "SS", "é", "x-", "가", "zzz", longest, longest + "x"] {
            let matcher = NameMatcher(query: query)
            let expected = (0..<index.count).filter { matcher.matches(index.name(at: $0)) }
            #expect(index.matches(matcher, limit: 100_000) == expected, "query \(query)")
            #expect(index.matches(matcher, limit: 2) == Array(expected.prefix(2)), "query \(query), limit 2")
        }
    }

    /// The names under a folder, found by a binary search across blocks of
    /// 3 names, are exactly those a filter over every name finds (`a/` not
    /// `a-b/`, `ab/` or `a` itself).
    @Test(arguments: [3, NameIndex.defaultBlockSize])
    func namesUnderAFolderAreThoseAFilterFinds(blockSize: Int) {
        let names = [
            "a", "a-b/x", "a/1", "a/2/3", "a/2/4", "a/b", "a/c/d/e", "ab/x", "b/a/1", "z", "a.txt", "a0/x",
        ]
        let index = NameIndex(names.map { (name: Array($0.utf8), status: status(1)) }, blockSize: blockSize)
        for folder in ["a", "a/2", "b", "b/a", "c", "a/c/d"] {
            let expected = names.filter { $0.hasPrefix(folder + "/") }.sorted().map { Array($0.utf8) }
            #expect(index.names(under: Array(folder.utf8)) == expected, "under \(folder)")
        }
    }
}

/// The compact hash table answers what a dictionary answers, through batches,
/// updates and forgetting.
@Suite struct HashTableTests {
    @Test func answersWhatADictionaryAnswers() {
        var random = SeededGenerator(seed: 9)
        var table = HashTable()
        var model: [FileStatus: SHA256Digest] = [:]
        let versions = (0..<6000).map { (index: Int) -> FileStatus in
            FileStatus(size: Int64(index % 7), modified: Int64(index % 13), inode: UInt64(index / 3))
        }
        for step in 0..<(HashTable.batch * 3) {
            let status = versions[Int(random.next() % UInt64(versions.count))]
            let digest = SHA256.hash(Array("\(step)".utf8))
            table.insert(digest, for: status)
            model[status] = digest
        }
        #expect(table.count == model.count)
        #expect(versions.allSatisfy { table[$0] == model[$0] })
        let kept = Array(versions.prefix(2000)).sorted(by: HashTable.precedes)
        let forgotten = table.keep(onlySorted: kept)
        let keptSet = Set(kept)
        #expect(forgotten == model.keys.filter { !keptSet.contains($0) }.count)
        #expect(versions.allSatisfy { table[$0] == (keptSet.contains($0) ? model[$0] : nil) })
        #expect(table.records().map(\.status) == table.records().map(\.status).sorted(by: HashTable.precedes))
    }
}
