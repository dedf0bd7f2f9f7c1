import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

@testable import PPlus2Node

/// Words in any order, against real answers: a plain P+2 peer (scripted: it
/// answers the one word asked with names holding it) and a pplus2 peer.
@Suite struct WordQueryTests {
    @Test func reportFinalFindsFinalReportOnAPlainPeerAndOnAPPlus2Peer() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let names = "Final-Report.pdf\nreport-draft.txt\nfinal-grades.csv\n"
        let plain = try ScriptedPeer(query: ScriptedPeer.Script(Array(names.utf8)))
        defer { plain.stop() }
        let shared = try makeFolder(
            temporary,
            "shared",
            files: ["Final-Report.pdf": [1], "report-draft.txt": [2], "final-grades.csv": [3]]
        )
        let pplus2 = try startPeer(in: shared)
        defer { shutDown(pplus2) }
        let plainPeer = PeerIdentity(address: .loopback, port: plain.port)!
        let downloader = try startPeer(in: makeFolder(temporary, "mine"), bootstraps: [plainPeer, pplus2.identity])
        defer { shutDown(downloader) }
        let (console, output) = pipeConsole(downloader)
        _ = console.handle("report final")
        let lines = output.withLock { $0 }
        let listed = lines.filter { $0.hasPrefix("  ") && $0.contains(") ") }
        #expect(listed.count == 2 && listed.allSatisfy { $0.contains(") Final-Report.pdf  [") }, "\(lines)")
        #expect(
            Set(listed.compactMap { $0.split(separator: "[").last?.split(separator: "]").first.map(String.init) })
                == [plainPeer.description, pplus2.identity.description]
        )
        // Asked for one word (the extension first, then plain P+2), never for both.
        let asked = plain.requests[1].map { $0.hasPrefix("\u{1}find ") ? String($0.dropFirst(6)) : $0 }
        #expect(!asked.isEmpty && Set(asked).count == 1 && ["report", "final"].contains(asked[0]), "\(asked)")
    }
}
