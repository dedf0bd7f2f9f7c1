import PPlus2Core
import PPlus2POSIX

/// The one folder a peer shares: what it offers, what it serves, and where its
/// downloads land.
///
/// - Offered: regular files directly inside, whose names pass `SharedFileName`
///   (no dotfiles, no sub-folders, no symbolic links, FIFOs or devices).
/// - Searched through a live index (`FolderIndex`) that follows the folder as
///   it changes: a query never lists the folder.
/// - Downloads are written to hidden partial files (`.pplus2-PID-N.part`) and
///   renamed to their final name only when complete, never over an existing file.
///
/// Its thread (the index's) runs from `start` to `stop`; before, the index
/// holds the folder as it was at `init`.
public final class SharedFolder: ThreadOwner {
    /// The open folder every file operation goes through (a new one once a
    /// removed folder is back at its path: `FolderIndex`).
    public var directory: Folder { index.directory }
    let index: FolderIndex
    let partials = Locked(Partials())
    let keptLimits: KeptPartialLimits

    public var path: String { directory.path }

    /// Opens (and creates if missing) the folder at `path`, and removes partial
    /// files left behind by peers that are no longer running.
    public init(
        path: String,
        keptPartials: KeptPartialLimits = KeptPartialLimits(),
        log: Log = .silent
    ) throws(IOFailure) {
        let directory = try Folder.open(creatingIfMissing: path)
        keptLimits = keptPartials
        index = try FolderIndex(directory: directory, log: log)
        removeStalePartials()
        sweepKeptPartials()
    }

    /// Starts following the folder's changes.
    public func start() throws(IOFailure) {
        try index.start()
    }

    public func stop() {
        index.stop()
    }

    public func join() {
        index.join()
    }

    // MARK: Offering

    /// A file the folder offers.
    public struct OfferedFile: Sendable {
        public let name: String
        /// The version the index holds (size, modification time, inode).
        public let status: FileStatus

        public var size: Int64 { status.size }

        init(_ entry: (name: String, status: FileStatus)) {
            name = entry.name
            status = entry.status
        }
    }

    /// The offered files, in byte order of their names.
    public func offeredFiles() -> [OfferedFile] {
        let snapshot = index.snapshot
        return (0..<snapshot.count).map { OfferedFile(snapshot.entry(at: $0)) }
    }

    /// The size of the offered file `name` (its bytes exactly), if there is one:
    /// one look-up in the index, no listing.
    public func offeredSize(of name: String) -> Int64? {
        offeredStatus(of: name)?.size
    }

    /// The version (size, modification time, inode) of the offered file `name`
    /// as the index last saw it, if there is one.
    public func offeredStatus(of name: String) -> FileStatus? {
        index.snapshot.status(of: Array(name.utf8))
    }

    /// The names that match `query`, in byte order, at most `limit`. A query that
    /// starts with a control character matches nothing (reserved for extensions).
    /// Plain P+2: only files directly inside the folder.
    public func search(_ query: String, limit: Int) -> [String] {
        if let first = query.unicodeScalars.first, first.value < 0x20 || first.value == 0x7F { return [] }
        return matchingFiles(query, limit: limit, topLevelOnly: true).map(\.name)
    }

    /// The offered files whose paths match `query`, in byte order, at most
    /// `limit`: the whole tree (the extension), or with `topLevelOnly` the
    /// files directly inside (plain P+2).
    public func matchingFiles(_ query: String, limit: Int, topLevelOnly: Bool = false) -> [OfferedFile] {
        let snapshot = index.snapshot
        return snapshot.matches(NameMatcher(query: query), limit: limit, topLevelOnly: topLevelOnly).map {
            OfferedFile(snapshot.entry(at: $0))
        }
    }

    // MARK: Serving

    /// Opens an offered file for reading: a top-level name (plain P+2), or
    /// with `paths` a relative path of the tree (the extension), opened
    /// beneath the folder through real folders only. Anything else (a name
    /// that breaks the rules, a folder, a link, a FIFO, a missing file) throws.
    public func openForServing(
        _ name: String,
        paths: Bool = false
    ) throws(ServingRefusal) -> (file: FileDescriptor, status: FileStatus) {
        guard SharedPath.isValid(name, folders: paths) else { throw .notOffered }
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
        for (name, _) in hiddenFiles() {
            if let owner = HiddenFile(name: name)?.owner, !ProcessControl.isAlive(owner) { directory.remove(name) }
        }
    }

    /// The regular files whose names start with `.` (where the peer keeps its
    /// own), listed without a copy of every other name.
    func hiddenFiles() -> [(name: String, status: FileStatus)] {
        var found: [(name: String, status: FileStatus)] = []
        try? directory.forEachEntry { name, kind, status in
            guard kind == .regular, name.first == UInt8(ascii: ".") else { return }
            found.append((String(decoding: name, as: UTF8.self), status))
        }
        return found
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
