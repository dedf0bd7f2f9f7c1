import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

@Suite("Peers together on loopback")
struct SwarmTests {
    @Test func threePeersConverge() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let a = try startPeer(in: makeFolder(temporary, "a"))
        defer { shutDown(a) }
        let b = try startPeer(in: makeFolder(temporary, "b"), bootstraps: [a.identity])
        defer { shutDown(b) }
        let c = try startPeer(in: makeFolder(temporary, "c"), bootstraps: [b.identity])
        defer { shutDown(c) }
        let everyone = [a, b, c]
        let converged = waitUntil(timeout: 10) {
            everyone.allSatisfy { peer in
                Set(peer.peers.identities) == Set(everyone.map(\.identity)).subtracting([peer.identity])
            }
        }
        #expect(converged, "lists: \(everyone.map { $0.peers.identities })")
        for peer in everyone { #expect(!peer.peers.contains(peer.identity)) }
    }

    @Test func aQueryFindsFilesOnTwoPeersInKnownPeerOrder() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let a = try startPeer(
            in: makeFolder(temporary, "a", files: ["alpha-Report.txt": [1], "other.txt": [2]]),
            gossipInterval: 60
        )
        defer { shutDown(a) }
        let b = try startPeer(
            in: makeFolder(temporary, "b", files: ["beta-report.pdf": [3], "café.txt": [4]]),
            gossipInterval: 60
        )
        defer { shutDown(b) }
        let c = try startPeer(in: makeFolder(temporary, "c"), bootstraps: [b.identity, a.identity], gossipInterval: 60)
        defer { shutDown(c) }

        let result = c.search("REPORT")
        #expect(result.matches.map(\.name) == ["beta-report.pdf", "alpha-Report.txt"])
        #expect(result.matches.map(\.peer) == [b.identity, a.identity])
        #expect(result.failures.isEmpty)
        #expect(c.search("CAFÉ").matches.map(\.name) == ["café.txt"])
        #expect(c.search("").matches.count == 4)
        #expect(c.search("nothing-like-this").matches.isEmpty)
    }

    @Test func aDownloadGivesIdenticalBytesAndLeavesNoPartialFile() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(5 * 1024 * 1024 + 17, seed: 42)
        let b = try startPeer(in: makeFolder(temporary, "b", files: ["big.bin": content]), gossipInterval: 60)
        defer { shutDown(b) }
        let cFolder = try makeFolder(temporary, "c")
        let c = try startPeer(in: cFolder, bootstraps: [b.identity], gossipInterval: 60)
        defer { shutDown(c) }

        let match = try #require(c.search("big").matches.first)
        var progressCalls = 0
        let outcome = try c.download(match) { _ in progressCalls += 1 }
        #expect(outcome.savedFile == SavedFile(name: "big.bin", bytes: Int64(content.count)))
        #expect(readFile(cFolder + "/big.bin") == content)
        #expect(TemporaryFolder.names(in: cFolder) == ["big.bin"])
        #expect(progressCalls > 0)
    }

    @Test func aMissingFileSavesNothing() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let bFolder = try makeFolder(temporary, "b", files: ["gone.txt": [1, 2, 3], "empty.txt": []])
        let b = try startPeer(in: bFolder, gossipInterval: 60)
        defer { shutDown(b) }
        let cFolder = try makeFolder(temporary, "c")
        let c = try startPeer(in: cFolder, bootstraps: [b.identity], gossipInterval: 60)
        defer { shutDown(c) }

        let matches = c.search("").matches
        #expect(matches.map(\.name) == ["empty.txt", "gone.txt"])
        #expect(matches.map(\.size) == [0, 3])  // told by the extension
        try removeFile(bFolder + "/gone.txt")
        #expect(try c.download(matches[1]) == .notOffered)
        #expect(TemporaryFolder.names(in: cFolder).isEmpty)
        // The extension tells an empty file from a missing one: it is saved.
        #expect(try c.download(matches[0]).savedFile == SavedFile(name: "empty.txt", bytes: 0))
        #expect(readFile(cFolder + "/empty.txt") == [])
    }

    /// A plain P+2 peer cannot tell an empty file from a missing one: nothing is saved.
    @Test func aPlainPeersEmptyAnswerSavesNothing() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let plain = try ScriptedPeer(query: .init(Array("empty.txt\n".utf8)), download: .init([]))
        defer { plain.stop() }
        let cFolder = try makeFolder(temporary, "c")
        let c = try startPeer(
            in: cFolder,
            bootstraps: [PeerIdentity(address: .loopback, port: plain.port)!],
            gossipInterval: 60
        )
        defer { shutDown(c) }
        let match = try #require(c.search("empty").matches.first)
        #expect(match.size == nil)
        #expect(try c.download(match) == .empty)
        #expect(TemporaryFolder.names(in: cFolder).isEmpty)
        #expect(plain.requests[2] == ["empty.txt"])  // asked in plain P+2, not in the extension
    }

    @Test func aNameCollisionKeepsTheExistingFile() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let b = try startPeer(
            in: makeFolder(temporary, "b", files: ["same.txt": Array("theirs".utf8)]),
            gossipInterval: 60
        )
        defer { shutDown(b) }
        let cFolder = try makeFolder(temporary, "c", files: ["same.txt": Array("mine".utf8)])
        let c = try startPeer(in: cFolder, bootstraps: [b.identity], gossipInterval: 60)
        defer { shutDown(c) }

        let match = try #require(c.search("same").matches.first { $0.peer == b.identity })
        #expect(try c.download(match).savedFile == SavedFile(name: "same (1).txt", bytes: 6))
        #expect(try c.download(match).savedFile == SavedFile(name: "same (2).txt", bytes: 6))
        #expect(readFile(cFolder + "/same.txt") == Array("mine".utf8))
        #expect(readFile(cFolder + "/same (1).txt") == Array("theirs".utf8))
        #expect(TemporaryFolder.names(in: cFolder) == ["same (1).txt", "same (2).txt", "same.txt"])
    }

    @Test func aSilentPeerCostsAboutOneTimeout() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let silent = [try SilentPeer(), try SilentPeer(), try SilentPeer()]
        let b = try startPeer(in: makeFolder(temporary, "b", files: ["found.txt": [1]]), gossipInterval: 60)
        defer { shutDown(b) }
        let identities = silent.map { PeerIdentity(address: .loopback, port: $0.port)! }
        let c = try startPeer(
            in: makeFolder(temporary, "c"),
            bootstraps: identities + [b.identity],
            gossipInterval: 60,
            timeout: 1
        )
        defer { shutDown(c) }

        let started = MonotonicClock.now
        let result = c.search("found")
        let elapsed = MonotonicClock.now - started
        #expect(result.matches.map(\.name) == ["found.txt"])
        #expect(result.failures.map(\.peer) == identities)
        #expect(result.failures.allSatisfy { $0.failure.reason.contains("timed out") })
        #expect(elapsed < 2.5, "took \(elapsed) s for three silent peers with a 1 s timeout")
    }

    @Test func aResetMidDownloadLeavesNoFile() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let fake = try ScriptedPeer(download: .init(randomBytes(100_000, seed: 1), then: .reset))
        defer { fake.stop() }
        let cFolder = try makeFolder(temporary, "c")
        let c = try startPeer(in: cFolder, gossipInterval: 60)
        defer { shutDown(c) }

        let identity = PeerIdentity(address: .loopback, port: fake.port)!
        #expect(throws: DownloadError.self) {
            try c.download(Search.Match(name: "file.bin", peer: identity))
        }
        #expect(fake.requests[2] == ["file.bin"])
        #expect(TemporaryFolder.names(in: cFolder).isEmpty)
    }

    @Test func aDownloadPastTheSizeLimitIsAbandoned() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let b = try startPeer(in: makeFolder(temporary, "b", files: ["big.bin": randomBytes(3 << 20, seed: 3)]))
        defer { shutDown(b) }
        let cFolder = try makeFolder(temporary, "c")
        let c = try startPeer(in: cFolder, bootstraps: [b.identity], gossipInterval: 60) {
            $0.maxDownloadSize = 1 << 20
        }
        defer { shutDown(c) }
        #expect(throws: DownloadError.tooLarge(1 << 20)) {
            try c.download(Search.Match(name: "big.bin", peer: b.identity))
        }
        #expect(TemporaryFolder.names(in: cFolder).isEmpty)
    }

    /// A plain peer's match (no size) is a top-level name; a pplus2 peer's
    /// may be a path (FolderTreeTests), never one that could escape.
    @Test func refusesANameFromTheNetworkThatIsNotASharedFileName() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let cFolder = try makeFolder(temporary, "c")
        let c = try startPeer(in: cFolder, gossipInterval: 60)
        defer { shutDown(c) }
        for name in ["../escape", "/etc/passwd", ".hidden", "a/b", "tab\t"] {
            #expect(throws: DownloadError.invalidName) {
                try c.download(Search.Match(name: name, peer: PeerIdentity("127.0.0.1:9")!))
            }
        }
        #expect(TemporaryFolder.names(in: cFolder).isEmpty)
    }

    @Test func deadPeersAreDroppedButBootstrapsKept() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let a = try startPeer(in: makeFolder(temporary, "a"), gossipInterval: 60)
        let dead = PeerIdentity("127.0.0.1:9")!  // the discard port: nothing listens
        a.peers.learnSecondHand([dead])
        let bootstrapDead = PeerIdentity("127.0.0.1:7")!
        a.peers.addBootstrap(bootstrapDead)
        for _ in 0..<3 {
            a.gossip(with: dead)
            a.gossip(with: bootstrapDead)
        }
        #expect(!a.peers.contains(dead))
        #expect(a.peers.contains(bootstrapDead))
        shutDown(a)
    }
}
