import PPlus2Core
import PPlus2POSIX

// How a search's matches are listed: on a pipe the contract's line for each
// copy; on a terminal aligned columns, sizes in human units, and the copies
// of one content (same size and SHA-256, told by peers that speak the
// extension) as one numbered entry.

extension Console {
    /// `  3) report.pdf  [10.0.0.7:5000]`, and `  1048576` after it when the size is known.
    static func pipeLine(number: Int, _ match: Search.Match) -> String {
        "  \(number)) \(VisibleName.text(match.name))  [\(match.peer)]" + (match.size.map { "  \($0)" } ?? "")
    }

    /// The matches as entries: the copies of one known content together, in
    /// the order their first copy came; a copy of unknown content alone.
    static func groupedByContent(_ matches: [Search.Match]) -> [[Search.Match]] {
        var entries: [[Search.Match]] = []
        var positions: [ContentKey: Int] = [:]
        for match in matches {
            guard let sha256 = match.sha256, let size = match.size else {
                entries.append([match])
                continue
            }
            let key = ContentKey(name: Array(match.name.utf8), size: size, sha256: sha256)
            if let position = positions[key] {
                entries[position].append(match)
            } else {
                positions[key] = entries.count
                entries.append([match])
            }
        }
        return entries
    }

    /// One content under one name: a name that differs in content is another file.
    private struct ContentKey: Hashable {
        let name: [UInt8]
        let size: Int64
        let sha256: SHA256Digest
    }

    /// A terminal's listing, a page of `maxShownOnTerminal` entries from
    /// `first`: numbers right-aligned, names in a column, the peer, the size,
    /// how many peers offer that content, and a mark on what this peer has
    /// already (same name and size). `/more` shows the next page.
    func showAligned(from first: Int = 0) {
        let shown = entries[first...].prefix(Self.maxShownOnTerminal)
        shownUpTo = first + shown.count
        let numberWidth = String(entries.count).count
        let names = shown.map { VisibleName.text($0[0].name) }
        // Padded by display columns: a wide character (報) takes two.
        let nameWidth = min(names.map(DisplayWidth.of).max() ?? 0, 48)
        let peerWidth = shown.map { "[\($0[0].peer)]".count }.max() ?? 0
        for (offset, entry) in shown.enumerated() {
            let number = String(first + offset + 1)
            let name = names[offset] + String(repeating: " ", count: max(0, nameWidth - DisplayWidth.of(names[offset])))
            let peerText = "[\(entry[0].peer)]"
            let size =
                entry[0].size.map {
                    "  " + String(repeating: " ", count: peerWidth - peerText.count) + Formatting.bytes($0)
                } ?? ""
            var note = entry.count > 1 ? "  (on \(entry.count) peers)" : ""
            if let content = entry[0].sha256, let mine = localCopies[content] {
                note += mine == entry[0].name ? "  (you have it)" : "  (you have it as \(VisibleName.text(mine)))"
            } else if peer.sharedSize(of: entry[0].name) != nil {
                note += "  (you have a file of this name)"
            }
            say(
                "  \(String(repeating: " ", count: numberWidth - number.count))\(screen.paint(number, .bold))) "
                    + "\(name)  \(screen.paint(peerText, .cyan))\(size)\(screen.paint(note, .dim))"
            )
        }
        if entries.count > shownUpTo {
            say("  ... \(entries.count - shownUpTo) more: /more shows the next \(Self.maxShownOnTerminal)")
        }
    }

    /// `/more`: the next page of the last listing.
    func showMore() {
        guard shownUpTo < entries.count else {
            return say(entries.isEmpty ? "no listing to page through" : "that was all \(entries.count)")
        }
        showAligned(from: shownUpTo)
        isPicking = true
    }
}

/// What one folder of a peer holds, from the matches of a search for its
/// path: the files directly in it, and its sub-folders with how many files
/// each holds (at any depth).
struct FolderListing {
    var files: [Search.Match] = []
    var folders: [(name: String, files: Int)] = []

    init(_ matches: [Search.Match], in folder: String) {
        let prefix = folder + "/"
        var counts: [String: Int] = [:]
        for match in matches where match.name.hasPrefix(prefix) {
            let rest = match.name.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/") {
                counts[String(rest[..<slash]), default: 0] += 1
            } else {
                files.append(match)
            }
        }
        folders = counts.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map {
            (name: $0.key, files: $0.value)
        }
    }
}
