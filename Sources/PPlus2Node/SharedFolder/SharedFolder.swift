import PPlus2Core
import PPlus2POSIX

/// The one folder a peer shares: what it offers, what it serves, and where its
/// downloads land.
///
/// - Offered: regular files directly inside, whose names pass `SharedFileName`
///   (no dotfiles, no sub-folders, no symbolic links, FIFOs or devices).
/// - Searched through an in-memory index of folded names, rebuilt only when the
///   folder's modification time changes.
/// - Downloads are written to hidden partial files (`.pplus2-PID-N.part`) and
///   renamed to their final name only when complete, never over an existing file.
public final class SharedFolder: Sendable {
    /// The open folder every file operation goes through.
    public let directory: Folder
    private let index = Locked(Index())
    let partials = Locked(Partials())
    let keptLimits: KeptPartialLimits

    public var path: String { directory.path }

    /// Opens (and creates if missing) the folder at `path`, and removes partial
    /// files left behind by peers that are no longer running.
    public init(path: String, keptPartials: KeptPartialLimits = KeptPartialLimits()) throws(IOFailure) {
        directory = try Folder.open(creatingIfMissing: path)
        keptLimits = keptPartials
        removeStalePartials()
        sweepKeptPartials()
    }

    // MARK: Offering

    /// A file the folder offers.
    public struct OfferedFile: Sendable {
        public let name: String
        /// The version the last scan saw (size, modification time, inode).
        public let status: FileStatus
        let folded: FoldedName

        public var size: Int64 { status.size }
    }

    /// The offered files, and their folded names laid out for fast search: the
    /// ASCII names one after another in one byte buffer, each ending in `\n`
    /// (which no name holds), so one `memmem` pass finds a query in all of them.
    private struct Index {
        var files: [OfferedFile] = []
        var asciiNames: [UInt8] = []
        /// Where each ASCII name starts in `asciiNames`, in file order...
        var asciiStarts: [Int] = []
        /// ...and which file it is.
        var asciiFiles: [Int] = []
        /// The files whose folded names are not ASCII: matched one by one.
        var otherFiles: [Int] = []
        var stamp: Folder.ChangeStamp?
        /// True when the last scan ran so soon after a change that another
        /// change within the same timestamp tick could have been missed.
        var mayBeStale = true
        /// When the last scan started (monotonic seconds).
        var scannedAt = -Double.infinity
    }

    /// The offered files, sorted by name.
    public func offeredFiles() -> [OfferedFile] {
        index.withLock { index in
            refresh(&index)
            return index.files
        }
    }

    /// The names that match `query`, sorted, at most `limit`. A query that starts
    /// with a control character matches nothing (reserved for extensions).
    public func search(_ query: String, limit: Int) -> [String] {
        if let first = query.unicodeScalars.first, first.value < 0x20 || first.value == 0x7F { return [] }
        return matchingFiles(query, limit: limit).map(\.name)
    }

    /// The offered files whose names match `query`, sorted, at most `limit`.
    public func matchingFiles(_ query: String, limit: Int) -> [OfferedFile] {
        let matcher = NameMatcher(query: query)
        return index.withLock { index in
            refresh(&index)
            return Self.matches(of: matcher, in: index, limit: limit).map { index.files[$0] }
        }
    }

    /// The indexes of the matching files, in name order, at most `limit`.
    private static func matches(of matcher: NameMatcher, in index: Index, limit: Int) -> [Int] {
        if matcher.foldedQueryUTF8.isEmpty { return Array(index.files.indices.prefix(limit)) }
        guard matcher.isASCIIQuery else {
            return Array(
                index.files.indices.lazy.filter { matcher.matches(folded: index.files[$0].folded) }.prefix(limit)
            )
        }
        var hits: [Int] = []
        index.asciiNames.withUnsafeBytes { names in
            matcher.foldedQueryUTF8.withUnsafeBytes { needle in
                var from = 0
                while let offset = ByteSearch.firstOffset(of: needle, in: names, from: from) {
                    // The name holding the hit: the last one starting at or before it.
                    var low = 0
                    var high = index.asciiStarts.count - 1
                    while low < high {
                        let middle = (low + high + 1) / 2
                        if index.asciiStarts[middle] <= offset { low = middle } else { high = middle - 1 }
                    }
                    hits.append(index.asciiFiles[low])
                    // Without other names to merge, hits come in name order: stop at the limit.
                    if index.otherFiles.isEmpty && hits.count == limit { return }
                    from = low + 1 < index.asciiStarts.count ? index.asciiStarts[low + 1] : names.count
                }
            }
        }
        if !index.otherFiles.isEmpty {
            hits += index.otherFiles.filter { matcher.matches(folded: index.files[$0].folded) }
            hits.sort()
        }
        return Array(hits.prefix(limit))
    }

    private func refresh(_ index: inout Index) {
        let stamp = directory.changeStamp()
        let now = MonotonicClock.now
        let changed = stamp == nil || stamp != index.stamp
        // A possibly stale index is re-read once a second at most, not on every query.
        guard changed || (index.mayBeStale && now - index.scannedAt >= 1) else { return }
        index.scannedAt = now
        let entries = (try? directory.entries()) ?? []
        var files: [OfferedFile] = []
        for entry in entries where entry.kind == .regular {
            guard let name = SharedFileName.validated(utf8: entry.nameBytes) else { continue }
            files.append(OfferedFile(name: name, status: entry.status, folded: FoldedName(name)))
        }
        files.sort { $0.name < $1.name }
        index.files = files
        index.asciiNames.removeAll(keepingCapacity: true)
        index.asciiStarts.removeAll(keepingCapacity: true)
        index.asciiFiles.removeAll(keepingCapacity: true)
        index.otherFiles.removeAll(keepingCapacity: true)
        for (position, file) in files.enumerated() {
            if file.folded.isASCII {
                index.asciiStarts.append(index.asciiNames.count)
                index.asciiFiles.append(position)
                index.asciiNames += file.folded.utf8
                index.asciiNames.append(UInt8(ascii: "\n"))
            } else {
                index.otherFiles.append(position)
            }
        }
        index.stamp = stamp
        // Folder times have a coarse tick on some file systems: a change in the
        // same tick as this scan would leave the stamp unchanged. Rescan once more
        // while the change is recent.
        index.mayBeStale = stamp.map { WallClock.now - $0.time < 2 } ?? true
    }

    // MARK: Serving

    /// Opens an offered file for reading. Anything else (a name that breaks the
    /// rules, a folder, a link, a FIFO, a missing file) throws.
    public func openForServing(_ name: String) throws(ServingRefusal) -> (file: FileDescriptor, status: FileStatus) {
        guard SharedFileName.isValid(name) else { throw .notOffered }
        do {
            return try directory.openRegularFileWithStatus(name)
        } catch {
            throw .cannotOpen(error)
        }
    }

    /// Removes the temporary files of peers whose process is gone (a crash or a
    /// SIGKILL leaves them behind): partial downloads and half-written peer
    /// lists. Those of a live peer sharing the folder stay.
    private func removeStalePartials() {
        guard let entries = try? directory.entries() else { return }
        for entry in entries where entry.kind == .regular {
            let name = String(decoding: entry.nameBytes, as: UTF8.self)
            if let owner = HiddenFile(name: name)?.owner, !ProcessControl.isAlive(owner) { directory.remove(name) }
        }
    }
}

/// Why a name was not served: the download port answers both with silence.
public enum ServingRefusal: Error, Equatable, Sendable {
    /// The name breaks the shared-file rules (`../x`, `.hidden`, `a/b`).
    case notOffered
    /// Opening it failed: missing, a folder, a link, a FIFO.
    case cannotOpen(IOFailure)

    public var reason: String {
        switch self {
        case .notOffered: "not a shared-file name"
        case .cannotOpen(let failure): failure.reason
        }
    }
}
