import PPlus2Core
import PPlus2POSIX

/// The live index of the shared folder: a `NameIndex` that follows the folder
/// as it changes, read by every query at once without waiting.
///
/// - At start the folder is listed once (in `init`: the first query sees it).
/// - Then one thread follows the kernel's news of the folder (`FolderWatch`,
///   inotify). Each batch of events names entries; each is looked at again
///   (one `fstatat`), and the changes are applied to a copy of the index,
///   which replaces the one queries read. A file added, written, removed or
///   renamed is in or out of answers within milliseconds.
/// - Queries never list the folder and never wait for one another or for an
///   update: they take the current index (a reference, under a short lock)
///   and search it.
/// - The fallback, listing the folder again, is for what the kernel cannot
///   tell: at once after its event queue overflowed; and without a watch
///   (inotify unavailable, every watch used up, the folder itself moved away)
///   whenever the folder's change stamp moves, checked every 100 ms, once
///   more a second after a recent change (timestamps can be coarse), and every
///   5 s (a file rewritten in place does not move the folder's stamp).
/// - The folder's own disappearance (seen within a second: inotify says
///   nothing of a folder removed while it is held open, so a watched folder
///   is looked at once a second). Moved away, it is still followed by its
///   descriptor. Removed, it offers nothing (said once in the log), and its
///   path is looked at every 100 ms: a folder that appears there is taken as
///   the shared folder, watched and listed (said once too).
final class FolderIndex: ThreadOwner {
    /// How often the fallback looks at the folder's change stamp.
    static let fallbackCheckInterval = 0.1
    /// How often a watched folder is looked at to see whether it was removed
    /// (inotify tells nothing while the folder is held open).
    static let removalCheckInterval = 1.0

    /// The folder now: replaced when a new folder appears at its path.
    private let folder: Locked<Folder>
    /// The path the person named, where a folder that comes back is looked for.
    private let path: String
    private let log: Log
    /// The index, and how many times it was replaced.
    private let current: Locked<(index: NameIndex, generation: Int)>
    private let thread = ThreadHandle()
    private let wake: NonBlockingPipe
    private let watch: FolderWatch?
    /// The folder's change stamp when `init` listed it (the fallback's start).
    private let listedStamp: Folder.ChangeStamp?
    /// Why the folder is not watched, if it is not.
    let watchProblem: IOFailure?
    /// What the last listing of the tree found beside the files: its
    /// sub-folders, what it left out, and whether every folder is watched.
    private let lastListing: Locked<(folders: Int, skipped: FolderTree.Skipped, watchFailure: IOFailure?)>

    /// Watches the folder, then lists it: what changes meanwhile is news the
    /// thread applies once started. `watching: false` takes the fallback (tests).
    init(directory: Folder, watching: Bool = true, log: Log = .silent) throws(IOFailure) {
        folder = Locked(directory)
        path = directory.path
        self.log = log
        do {
            watch = watching ? try FolderWatch(directory) : nil
            watchProblem = nil
        } catch {
            watch = nil
            watchProblem = error
        }
        listedStamp = directory.changeStamp()  // before the listing: a change during it shows as a change
        let tree = FolderTree(listing: directory, watch: watch)
        current = Locked((tree.index, 0))
        lastListing = Locked((tree.folders.count, tree.skipped, tree.watchFailure))
        wake = try NonBlockingPipe()
    }

    /// How many sub-folders the last listing followed, what it left out, and
    /// why a folder could not be watched (it is then listed again every 5 s).
    var treeSummary: (folders: Int, skipped: FolderTree.Skipped, watchFailure: IOFailure?) {
        lastListing.withLock { $0 }
    }

    /// The open shared folder (the one at its path since it last came back).
    var directory: Folder { folder.withLock { $0 } }

    /// The index as it is now.
    var snapshot: NameIndex { current.withLock { $0.index } }

    /// Changes each time the index is replaced (the hasher's cue).
    var generation: Int { current.withLock { $0.generation } }

    func start() throws(IOFailure) {
        try thread.start(name: "folder index") { [self] in run() }
    }

    func stop() {
        guard thread.requestStop() else { return }
        wake.wake()
    }

    func join() {
        thread.join()
    }

    // MARK: The thread

    private func run() {
        var watch = self.watch
        var fallback = Fallback(stamp: listedStamp)
        var wasRemoved = false
        var relistedAt = MonotonicClock.now
        while !thread.isStopping {
            var waiting = PollSet()
            waiting.addReadable(wake.readEnd)
            if let watch { waiting.addReadable(watch.descriptor) }
            waiting.wait(timeout: watch == nil ? Self.fallbackCheckInterval : Self.removalCheckInterval)
            if thread.isStopping { return }
            // inotify says nothing of a folder removed while we hold it open: look.
            if watch != nil && !waiting.isReady(1) && directory.isRemoved {
                watch = nil
                replace(with: NameIndex.Builder().build())
            }
            guard let active = watch else {
                if let back = folderBack() {
                    watch = back.watch
                    fallback = Fallback(stamp: back.folder.changeStamp())
                    wasRemoved = false
                    continue
                }
                let current = directory
                if current.isRemoved && !wasRemoved {
                    wasRemoved = true
                    log.warning(
                        "the shared folder \(path) was removed: nothing is offered until a folder is back there"
                    )
                }
                if fallback.isDue(current.changeStamp()) { replace(with: Self.listing(of: current)) }
                continue
            }
            let events = (try? active.readEvents()) ?? [.overflow]
            if events.contains(.folderGone) { watch = nil }
            apply(events, watch: active)
            // Some folder has no watch: the tree is listed again every few seconds.
            if treeSummary.watchFailure != nil && MonotonicClock.now - relistedAt >= Fallback.relistInterval {
                relistedAt = MonotonicClock.now
                relist(directory, watch: active)
            }
        }
    }

    /// Once the followed folder was removed, a folder at its path (never a
    /// symbolic link): taken as the shared folder, watched, listed. nil if
    /// there is none, or the followed folder still exists (moved away, it is
    /// still the one the peer opened, and followed).
    private func folderBack() -> (folder: Folder, watch: FolderWatch?)? {
        guard directory.isRemoved, let found = try? Folder.open(existing: path) else { return nil }
        let watch = try? FolderWatch(found)
        folder.withLock { $0 = found }
        relist(found, watch: watch)
        let count = snapshot.count
        log.warning("the shared folder \(path) is back: \(count) file\(count == 1 ? "" : "s") offered")
        return (found, watch)
    }

    /// Applies one batch of the kernel's news: entries looked at again; a
    /// folder that appeared listed and watched, one that went taken out with
    /// its files; lost news lists the tree again.
    private func apply(_ events: [FolderWatch.Event], watch: FolderWatch) {
        let directory = self.directory
        if events.contains(.overflow) || events.contains(.folderGone) {
            return relist(directory, watch: events.contains(.folderGone) ? nil : watch)
        }
        let index = snapshot  // only this thread replaces it
        var changes: [[UInt8]: FileStatus?] = [:]
        var names = Set<[UInt8]>()
        for event in events {
            switch event {
            case .changed(let name), .removed(let name):
                if SharedPath.validated(utf8: name) != nil { names.insert(name) }
            case .folderRemoved(let path):
                let prefix = String(decoding: path, as: UTF8.self)
                watch.forget(prefix)
                for name in index.names(under: path) + changes.keys.filter({ Self.isUnder($0, path) }) {
                    changes[name] = .some(nil)
                }
            case .folderAdded(let path):
                guard let folder = SharedPath.validated(utf8: path),
                    SharedPath.components(folder).count < SharedPath.maxComponents,
                    watch.count <= FolderTree.maxFolders
                else { continue }
                let tree = FolderTree(listing: directory, from: folder, watch: watch)
                for position in 0..<tree.index.count {
                    let (name, status) = tree.index.entry(at: position)
                    changes[Array(name.utf8)] = .some(status)
                }
            case .overflow, .folderGone: break  // handled above
            }
        }
        lastListing.withLock { $0.folders = watch.count - 1 }
        for name in names {
            // What the entry is now decides, whatever the events said on the way.
            let entry = directory.entry(named: name)
            let status = entry?.kind == .regular ? entry?.status : nil
            if index.status(of: name) != status || changes[name] != nil { changes[name] = .some(status) }
        }
        if !changes.isEmpty { replace(with: index.applying(changes)) }
    }

    /// Whether `name` is inside the folder `path`.
    private static func isUnder(_ name: [UInt8], _ path: [UInt8]) -> Bool {
        name.starts(with: path + [UInt8(ascii: "/")])
    }

    private func replace(with index: NameIndex) {
        current.withLock { $0 = (index, $0.generation + 1) }
    }

    /// Lists the tree again, watching every folder found (`watch`) and no
    /// longer the ones gone.
    private func relist(_ directory: Folder, watch: FolderWatch?) {
        let tree = FolderTree(listing: directory, watch: watch)
        watch?.keepOnly(tree.folders)
        lastListing.withLock { $0 = (tree.folders.count, tree.skipped, tree.watchFailure) }
        replace(with: tree.index)
    }

    /// The offered files of the tree, listed (without watching).
    static func listing(of directory: Folder) -> NameIndex {
        FolderTree(listing: directory).index
    }

    /// When to list the folder again without a watch.
    private struct Fallback {
        static let relistInterval = 5.0
        var stamp: Folder.ChangeStamp?
        /// A change was recent at the last listing: list again a second later.
        var recheckAt: Double?
        var listedAt = MonotonicClock.now

        init(stamp: Folder.ChangeStamp?) {
            self.stamp = stamp
            recheckAt = Self.isRecent(stamp) ? MonotonicClock.now + 1 : nil
        }

        /// Folder times have a coarse tick on some file systems: a change in the
        /// same tick as a listing would leave the stamp unchanged.
        static func isRecent(_ stamp: Folder.ChangeStamp?) -> Bool {
            stamp.map { WallClock.now - $0.time < 2 } ?? true
        }

        mutating func isDue(_ now: Folder.ChangeStamp?) -> Bool {
            let clock = MonotonicClock.now
            let changed = now == nil || now != stamp
            let recheck = recheckAt.map { clock >= $0 } ?? false
            guard changed || recheck || clock - listedAt >= Self.relistInterval else { return false }
            stamp = now
            listedAt = clock
            recheckAt = Self.isRecent(now) ? clock + 1 : nil
            return true
        }
    }
}
