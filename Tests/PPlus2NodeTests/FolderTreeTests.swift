import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// A shared folder with sub-folders: offered to pplus2 peers by relative
/// path, to plain P+2 by its top level only; symbolic links and hidden
/// folders never followed; downloads keep the structure, never through a
/// link, never outside; hostile paths write nothing.
@Suite struct FolderTreeTests {
    /// `lab/`: a file on top, two week folders, a hidden folder, a link to a
    /// folder and a link to a file, and a folder outside the tree the links
    /// point into.
    func makeLab(_ temporary: TemporaryFolder) throws -> String {
        let lab = try temporary.folder("lab")
        try writeFile(lab + "/syllabus.txt", Array("the course".utf8))
        try FileManager.default.createDirectory(atPath: lab + "/week1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lab + "/week2/extra", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lab + "/.git", withIntermediateDirectories: true)
        try writeFile(lab + "/week1/ex1.py", Array("print(1)".utf8))
        try writeFile(lab + "/week2/ex2.py", Array("print(2)".utf8))
        try writeFile(lab + "/week2/extra/notes.md", Array("notes".utf8))
        try writeFile(lab + "/.git/config", Array("secret".utf8))
        let outside = try temporary.folder("outside")
        try writeFile(outside + "/private.txt", Array("private".utf8))
        try FileManager.default.createSymbolicLink(atPath: lab + "/linked", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(
            atPath: lab + "/week1/alias.txt",
            withDestinationPath: outside + "/private.txt"
        )
        return lab
    }

    /// A peer sharing the lab, and one sharing `mine` that knows it.
    func serverAndDownloader(_ temporary: TemporaryFolder) throws -> (Peer, Peer, String) {
        let server = try startPeer(in: makeLab(temporary))
        let mine = try temporary.folder("mine")
        do {
            return (server, try startPeer(in: mine, bootstraps: [server.identity]), mine)
        } catch {
            shutDown(server)
            throw error
        }
    }

    func shutDown(_ peers: Peer...) {
        for peer in peers { PPlus2NodeTests.shutDown(peer) }
    }

    @Test func aTreeIsOfferedByPathToPPlus2PeersAndByItsTopToPlainOnes() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let lab = try makeLab(temporary)
        let peer = try startPeer(in: lab)
        defer { shutDown(peer) }
        let extended = wireRequest(port: peer.port + 1, line: "\u{1}find ").lines.dropFirst()
        let names = extended.compactMap { $0.split(separator: " ", maxSplits: 2).last.map(String.init) }
        #expect(names == ["syllabus.txt", "week1/ex1.py", "week2/ex2.py", "week2/extra/notes.md"], "\(names)")
        // Plain P+2: the top level only, and no path is served.
        #expect(wireRequest(port: peer.port + 1, line: "").lines == ["syllabus.txt"])
        #expect(wireRequest(port: peer.port + 1, line: "ex").lines.isEmpty)
        #expect(wireRequest(port: peer.port + 2, line: "week1/ex1.py").bytes.isEmpty)
        // The extension serves a path of the tree, and nothing through a link or a hidden folder.
        let served = wireRequest(port: peer.port + 2, line: "\u{1}get 0 - - week2/extra/notes.md")
        #expect(String(decoding: served.bytes, as: UTF8.self).hasSuffix("\nnotes"))
        for hidden in ["linked/private.txt", ".git/config", "week1/alias.txt", "week1/../syllabus.txt"] {
            #expect(wireRequest(port: peer.port + 2, line: "\u{1}get 0 - - \(hidden)").bytes.isEmpty, "\(hidden)")
        }
        // Words of the path find it.
        #expect(peer.search("extra", only: [peer.identity]).matches.map(\.name) == ["week2/extra/notes.md"])
        let summary = peer.folder.index.treeSummary
        #expect(summary.folders == 3)
        #expect(summary.skipped.symbolicLinks == 2 && summary.skipped.hidden == 1, "\(summary.skipped)")
    }

    @Test func aFileInANewSubFolderIsOfferedAtOnce() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let lab = try makeLab(temporary)
        let peer = try startPeer(in: lab)
        defer { shutDown(peer) }
        try FileManager.default.createDirectory(atPath: lab + "/week3/data", withIntermediateDirectories: true)
        try writeFile(lab + "/week3/data/set.csv", Array("1,2".utf8))
        #expect(waitUntil(timeout: 5) { peer.folder.offeredSize(of: "week3/data/set.csv") == 3 })
        try writeFile(lab + "/week3/data/more.csv", Array("3,4,5".utf8))  // in a folder watched since
        #expect(waitUntil(timeout: 5) { peer.folder.offeredSize(of: "week3/data/more.csv") == 5 })
        try FileManager.default.removeItem(atPath: lab + "/week3")
        #expect(waitUntil(timeout: 5) { peer.folder.offeredSize(of: "week3/data/set.csv") == nil })
        try FileManager.default.moveItem(atPath: lab + "/week2", toPath: lab + "/week9")
        #expect(waitUntil(timeout: 5) { peer.folder.offeredSize(of: "week9/extra/notes.md") == 5 })
        #expect(peer.folder.offeredSize(of: "week2/ex2.py") == nil)
    }

    @Test func aDownloadKeepsTheStructureAndNeverGoesThroughALink() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (server, downloader, mine) = try serverAndDownloader(temporary)
        defer { shutDown(server, downloader) }
        #expect(waitUntil(timeout: 10) { server.search("notes", only: [server.identity]).matches.first?.sha256 != nil })
        let match = try #require(downloader.search("notes", only: [server.identity]).matches.first)
        let outcome = try downloader.download(match)
        guard case .saved("week2/extra/notes.md", 5, .verified) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(readFile(mine + "/week2/extra/notes.md") == Array("notes".utf8))
        // Again: the same content is here; a copy gets a free name in the same folder.
        #expect(try downloader.download(match).savedFile?.name == "week2/extra/notes (1).md")

        // A folder of the path that is a link (or a file) here: refused, nothing written.
        let elsewhere = try temporary.folder("elsewhere")
        try FileManager.default.createSymbolicLink(atPath: mine + "/week1", withDestinationPath: elsewhere)
        let ex1 = try #require(downloader.search("ex1", only: [server.identity]).matches.first)
        #expect(throws: DownloadError.unsafePath("week1/ex1.py", "week1 is a symbolic link here")) {
            try downloader.download(ex1)
        }
        #expect(TemporaryFolder.names(in: elsewhere).isEmpty)
        try writeFile(mine + "/syllabus.txt", [1])
        let nested = Search.Match(name: "syllabus.txt/x", peer: server.identity, size: 1, sha256: nil)
        #expect(throws: DownloadError.unsafePath("syllabus.txt/x", "syllabus.txt is a file here")) {
            try downloader.download(nested)
        }
    }

    /// The console of a second peer, on a pipe: `/browse` one folder, then
    /// `/download-folder` it; every file arrives verified, in its folders.
    @Test func aFolderIsDownloadedWholeByTheConsole() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let (server, downloader, mine) = try serverAndDownloader(temporary)
        defer { shutDown(server, downloader) }
        #expect(
            waitUntil(timeout: 10) {
                server.search("week2/", only: [server.identity]).matches.allSatisfy { $0.sha256 != nil }
            }
        )
        let (console, output) = pipeConsole(downloader)
        _ = console.handle("/browse \(server.identity) week2")
        #expect(output.withLock { $0 }.contains("  folders in week2: extra/ (1 file)"), "\(output.withLock { $0 })")
        _ = console.handle("/download-folder \(server.identity) week2")
        let lines = output.withLock { $0 }
        #expect(lines.filter { $0.hasPrefix("saved week2/") && $0.contains("verified") }.count == 2, "\(lines)")
        #expect(readFile(mine + "/week2/ex2.py") == Array("print(2)".utf8))
        #expect(readFile(mine + "/week2/extra/notes.md") == Array("notes".utf8))
        #expect(readFile(mine + "/week1/ex1.py") == nil, "only the folder asked for")
    }

    /// A fake extended peer that lists hostile paths: none is listed, and a
    /// match made of one anyway is refused before a byte.
    @Test func hostilePathsAreNeverListedNorWritten() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let digest = SHA256.hash([1])
        let hostile = [
            "../escape.txt", "/etc/passwd", "a//b.txt", "a/./b.txt", "a/../../b.txt", ".hidden/x.txt", "a/.x/y.txt",
            "bell\u{07}/x.txt", Array(repeating: "d", count: 17).joined(separator: "/"), "good/file.txt",
        ]
        let lines = ["\u{1}P+2x/1"] + hostile.map { "1 \(digest) \($0)" }
        let liar = try ScriptedPeer(query: ScriptedPeer.Script(Array(lines.map { $0 + "\n" }.joined().utf8)))
        defer { liar.stop() }
        let mine = try temporary.folder("mine")
        let downloader = try startPeer(in: mine)
        defer { shutDown(downloader) }
        let peer = PeerIdentity(address: .loopback, port: liar.port)!
        let listed = downloader.search("", only: [peer])
        #expect(listed.matches.map(\.name) == ["good/file.txt"])
        #expect(listed.invalidNames == hostile.count - 1, "each hostile line counted, for the console to say")
        for name in hostile.dropLast() {
            let match = Search.Match(name: name, peer: peer, size: 1, sha256: digest)
            #expect(throws: DownloadError.invalidName) { try downloader.download(match) }
        }
        #expect(TemporaryFolder.names(in: mine).allSatisfy { $0.hasPrefix(".pplus2") }, "nothing written")
        #expect(TemporaryFolder.names(in: temporary.path).sorted() == ["mine"])
    }
}
