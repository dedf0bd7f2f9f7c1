import Foundation
import PPlus2Core
import PPlus2Node
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// A real pplus2 peer whose shared file was changed in place after it was
/// hashed (same size, modification time put back): it announces the old
/// SHA-256 and serves other bytes. Caught once, it is not asked again in this
/// run, for this content or another.
@Suite struct LiarTests {
    @Test func aPeerCaughtLyingIsNotAskedAgain() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let content = randomBytes(300_000, seed: 31)
        let honestFolder = try makeFolder(temporary, "h", files: ["data.bin": content, "other.bin": [1, 2, 3]])
        let liarFolder = try makeFolder(temporary, "l", files: ["data.bin": content, "other.bin": [1, 2, 3]])
        let digest = SHA256.hash(content)
        // The liar hashes its file and keeps the hash in its cache, then stops.
        let first = try startPeer(in: liarFolder)
        #expect(waitUntil(timeout: 10) { first.search("data", only: [first.identity]).matches.first?.sha256 == digest })
        #expect(
            waitUntil(timeout: 10) {
                FileManager.default.fileExists(atPath: liarFolder + "/" + HiddenFile.hashCache.name)
            }
        )
        shutDown(first)

        // Change its bytes in place, then put the modification time back: the
        // cache still matches (size, time, inode), so it announces the old hash.
        // Done while it is stopped, so its live index cannot see the change.
        let path = liarFolder + "/data.bin"
        try runCommand("/bin/cp", ["--preserve=timestamps", path, temporary.file("stamp")])
        var wrong = content
        wrong[150_000] ^= 0xFF
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data(wrong))
        try handle.close()
        try runCommand("/usr/bin/touch", ["-r", temporary.file("stamp"), path])

        let honest = try startPeer(in: honestFolder)
        defer { shutDown(honest) }
        let liar = try startPeer(in: liarFolder)
        defer { shutDown(liar) }
        let a = try startPeer(in: makeFolder(temporary, "a"))
        defer { shutDown(a) }
        #expect(
            waitUntil(timeout: 10) { honest.search("data", only: [honest.identity]).matches.first?.sha256 == digest }
        )

        let fromLiar = try #require(a.search("data", only: [liar.identity]).matches.first)
        #expect(fromLiar.sha256 == digest, "it still announces the old hash")
        #expect {
            try a.download(fromLiar)
        } throws: { error in
            // Caught at its piece (the file is one piece), before the whole file's check.
            guard case .badPiece(let peer, 0, 1) = error as? DownloadError else { return false }
            return peer == liar.identity
        }
        #expect(a.liars.contains(liar.identity))

        // The same content again, listed by both: only the honest copy is used.
        let both = a.search("data", only: [liar.identity, honest.identity]).matches
        #expect(try a.download(both).savedFile == SavedFile(name: "data.bin", bytes: 300_000))
        #expect(readFile(a.sharedFolderPath + "/data.bin") == content)
        // Another content, from the liar alone: refused before a byte.
        let other = try #require(a.search("other", only: [liar.identity]).matches.first)
        #expect(throws: DownloadError.distrusted(liar.identity)) { try a.download(other) }
    }
}
