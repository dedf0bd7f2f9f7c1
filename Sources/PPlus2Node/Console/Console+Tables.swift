import PPlus2Core
import PPlus2POSIX

// `/peers` and `/files`: tables of what this peer knows and shares.

extension Console {
    func listPeers() {
        let now = MonotonicClock.now
        let ago: (Double?) -> String = { time in time.map { "\(Formatting.seconds(now - $0)) ago" } ?? "never" }
        var rows: [[String]] = [["PEER", "STATE", "LAST SUCCESS", "LAST ATTEMPT", "LEARNED"]]
        let report = peer.peerReport()
        let instances = report.instanceNames
        for entry in report.entries {
            let failures = entry.consecutiveFailures
            let state =
                switch entry.state {
                case .failing: "failing: \(failures) failed contact\(failures == 1 ? "" : "s")"
                case .alive: "alive"
                case .new: "new (not contacted yet)"
                }
            var learned = entry.origin.rawValue
            if entry.discovered && entry.origin != .discovered { learned += ", discovered" }
            if let instance = instances[entry.identity] { learned += " as \"\(instance)\"" }
            rows.append([entry.identity.description, state, ago(entry.lastSuccess), ago(entry.lastContact), learned])
        }
        for (liar, why) in report.liars.sorted(by: { $0.key < $1.key }) {
            rows.append([liar.description, "not asked again: \(why)", "-", "-", "caught in this run"])
        }
        for dropped in report.dropped.reversed() {
            rows.append([
                dropped.identity.description, "dropped (\(dropped.reason))", "-", ago(dropped.lastContact),
                dropped.origin.rawValue,
            ])
        }
        let known = report.entries.count
        say("this peer: \(peer.identity); \(known) known peer\(known == 1 ? "" : "s")")
        defer {
            if !lastSearchFailures.isEmpty {
                say("  did not answer the last search (\(lastSearchFailures.count)):")
                for (failed, failure) in lastSearchFailures { say("    \(failed)  \(failure.reason)") }
            }
        }
        guard rows.count > 1 else { return }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column == 4 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            let line = "  " + cells.joined(separator: "  ")
            say(index == 0 ? screen.paint(line, .bold) : line)
        }
    }

    func listFiles() {
        let files = peer.sharedFiles()
        say("\(files.count) shared file\(files.count == 1 ? "" : "s") in \(peer.sharedFolderPath)")
        let width = min(files.map(\.name.count).max() ?? 0, 48)
        for file in files {
            let name = VisibleName.text(file.name)
            say("  \(name + String(repeating: " ", count: max(0, width - name.count)))  \(Formatting.bytes(file.size))")
        }
    }
}
