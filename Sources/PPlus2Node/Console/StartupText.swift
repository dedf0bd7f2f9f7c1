import PPlus2Core
import PPlus2POSIX

/// What the peer prints on standard error when it starts: the contract's
/// readiness line, then a short summary for the person at the console.
public enum StartupText {
    /// The line printed once all three listeners accept connections.
    public static func readinessLine(_ peer: Peer) -> String {
        let port = peer.port
        return "listening on \(peer.bindAddress):\(port) (peers \(port), query \(port + 1), download \(port + 2))"
    }

    /// The lines printed after the readiness line.
    public static func summary(_ peer: Peer) -> [String] {
        let port = peer.port
        let files = peer.folder.index.snapshot.count
        let bootstraps = peer.configuration.bootstraps.map(\.description).joined(separator: ", ")
        let restored = peer.store.restoredCount
        let waiting = restored > 0 ? "none (starting from the saved peers)" : "none (waiting to be contacted)"
        var lines = [
            "this peer: \(peer.identity) (peers \(port), query \(port + 1), download \(port + 2))",
            "shared folder: \(peer.folder.path) (\(treeText(files: files, peer.folder.index.treeSummary)))"
                + watchNote(peer),
            "bootstrap peers: \(bootstraps.isEmpty ? waiting : bootstraps)",
        ]
        if restored > 0 { lines.append("saved peers: \(restored) from the last run") }
        lines += keptLines(peer.keptDownloads())
        lines.append(discoveryLine(peer))
        return lines
    }

    /// Broken-off downloads kept to be resumed: how many, each with its name
    /// and what is kept, and how to resume them.
    public static func keptLines(_ kept: [KeptDownload]) -> [String] {
        guard !kept.isEmpty else { return [] }
        let count = kept.count == 1 ? "1 download" : "\(kept.count) downloads"
        return ["kept to resume: \(count) (/resume N, or pick the same file again: it goes on from where it stopped)"]
            + kept.enumerated().map { number, download in
                let whole = download.size > 0 ? " of \(Formatting.bytes(download.size))" : ""
                return "  \(number + 1)) \(VisibleName.text(download.name)): \(Formatting.bytes(download.kept))\(whole)"
            }
    }

    /// `12 files in 3 folders; left out: 2 symbolic links, 1 hidden`: what
    /// the tree offers (folders counted with the top one), and what was not
    /// offered and why.
    static func treeText(
        files: Int,
        _ tree: (folders: Int, skipped: FolderTree.Skipped, watchFailure: IOFailure?)
    )
        -> String
    {
        func count(_ number: Int, _ one: String, _ many: String) -> String? {
            number == 0 ? nil : "\(number) \(number == 1 ? one : many)"
        }
        var text = count(files, "file", "files") ?? "0 files"
        if tree.folders > 0 { text += " in \(tree.folders + 1) folders" }
        let skipped = tree.skipped
        let reasons = [
            count(skipped.symbolicLinks, "symbolic link", "symbolic links"),
            count(skipped.hidden, "hidden", "hidden"),
            count(skipped.tooDeep, "folder too deep", "folders too deep").map {
                $0 + " (\(SharedPath.maxComponents) levels at most)"
            },
            count(skipped.pastFolderLimit, "folder", "folders").map { $0 + " past \(FolderTree.maxFolders)" },
            count(skipped.badNames, "bad name", "bad names"),
            count(skipped.other, "special file", "special files"),
        ].compactMap { $0 }
        if !reasons.isEmpty { text += "; left out: " + reasons.joined(separator: ", ") }
        if let failure = tree.watchFailure {
            text += "; not every folder watched (\(failure.reason)): listed every 5 s"
        }
        return text
    }

    /// Why the folder is not watched (inotify), if it is not: changes then
    /// show within 100 ms, by its change stamp, instead of at once.
    private static func watchNote(_ peer: Peer) -> String {
        guard let problem = peer.folder.index.watchProblem else { return "" }
        return "; not watched (\(problem.reason)): looked at every 100 ms"
    }

    private static func discoveryLine(_ peer: Peer) -> String {
        if let discovery = peer.discovery {
            return "LAN discovery: on, as \"\(discovery.instanceName)\" on \(discovery.interface.name) "
                + "(\(Discovery.serviceType) via \(Discovery.group):\(Discovery.port))"
        }
        if let problem = peer.discoveryProblem { return "LAN discovery: unavailable: \(problem)" }
        return "LAN discovery: off (--discover turns it on)"
    }
}
