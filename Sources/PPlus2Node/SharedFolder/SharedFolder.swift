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
    private let partials = Locked(Partials())

    public var path: String { directory.path }

    /// Opens (and creates if missing) the folder at `path`, and removes partial
    /// files left behind by peers that are no longer running.
    public init(path: String) throws(IOFailure) {
        directory = try Folder.open(creatingIfMissing: path)
        removeStalePartials()
    }

    // MARK: Offering

    /// A file the folder offers.
    public struct OfferedFile: Sendable {
        public let name: String
        public let size: Int64
        let folded: FoldedName
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
        let matcher = NameMatcher(query: query)
        return index.withLock { index in
            refresh(&index)
            let hits = Self.matches(of: matcher, in: index, limit: limit)
            return hits.map { index.files[$0].name }
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
            files.append(OfferedFile(name: name, size: entry.size, folded: FoldedName(name)))
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
    public func openForServing(_ name: String) throws(ServingRefusal) -> (file: FileDescriptor, size: Int64) {
        guard SharedFileName.isValid(name) else { throw .notOffered }
        do {
            return try directory.openRegularFile(name)
        } catch {
            throw .cannotOpen(error)
        }
    }

    // MARK: Receiving

    private struct Partials {
        var active: Set<String> = []
        var counter = 0
        var isClosed = false
    }

    /// Creates a new hidden partial file for a download. The file is created
    /// under the registry's lock, so a shutdown cannot slip between creating
    /// it and registering it (and leave it behind).
    public func createPartial() throws(DownloadError) -> PartialFile {
        let created: Result<PartialFile, DownloadError> = partials.withLock { partials in
            guard !partials.isClosed else { return .failure(.stopping) }
            partials.counter += 1
            let name = HiddenFile.partial(pid: ProcessControl.pid, number: partials.counter).name
            do throws(IOFailure) {
                let file = try directory.createExclusive(name)
                partials.active.insert(name)
                return .success(PartialFile(name: name, file: file))
            } catch {
                return .failure(.local(.creatingPartial, folder: path, error))
            }
        }
        return try created.get()
    }

    /// Gives a complete partial file its final name: `wanted` if free, else the
    /// first free `stem (k).ext`. Never replaces a file. Returns the name used.
    public func commit(_ partial: PartialFile, as wanted: String) throws(DownloadError) -> String {
        let outcome: Result<String, DownloadError> = partials.withLock { partials in
            guard !partials.isClosed, partials.active.contains(partial.name) else { return .failure(.stopping) }
            for attempt in 0...999 {
                let candidate = Self.candidateName(for: wanted, attempt: attempt)
                guard candidate.utf8.count <= SharedFileName.maxBytes else { continue }
                switch Result(catching: { () throws(IOFailure) in
                    try directory.renameWithoutReplacing(partial.name, to: candidate)
                }) {
                case .success(true):
                    partials.active.remove(partial.name)
                    return .success(candidate)
                case .success(false):
                    continue  // taken: try the next name
                case .failure(let failure):
                    return .failure(.local(.saving(as: candidate), folder: path, failure))
                }
            }
            return .failure(.noFreeName(wanted))
        }
        return try outcome.get()
    }

    /// Deletes a partial file that will not be completed.
    public func discard(_ partial: PartialFile) {
        partials.withLock { partials in
            if partials.active.remove(partial.name) != nil { directory.remove(partial.name) }
        }
    }

    /// Removes every partial file of this peer and refuses new ones: at shutdown.
    public func closeAndRemovePartials() {
        partials.withLock { partials in
            partials.isClosed = true
            for name in partials.active { directory.remove(name) }
            partials.active.removeAll()
        }
    }

    /// Attempt 0 is `name` itself, attempt k is `stem (k).ext`.
    static func candidateName(for name: String, attempt: Int) -> String {
        guard attempt > 0 else { return name }
        let (stem, suffix) = splitExtension(name)
        return "\(stem) (\(attempt))\(suffix)"
    }

    /// `report.pdf` → (`report`, `.pdf`); `archive.tar.gz` → (`archive.tar`, `.gz`);
    /// `README` → (`README`, ``).
    static func splitExtension(_ name: String) -> (stem: String, suffix: String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
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

/// A hidden file a download is written into.
public struct PartialFile: Sendable {
    public let name: String
    public let file: FileDescriptor
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
