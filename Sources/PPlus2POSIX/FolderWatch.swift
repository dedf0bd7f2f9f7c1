import Glibc

/// The kernel's news of a folder and its sub-folders (`inotify(7)`): entries
/// created, written, removed and renamed, as they happen, so an index of the
/// tree can follow it without listing it again.
///
/// Each folder of the tree has a watch of its own (`watch(_:as:)`); events
/// name entries by their relative path (`a/b/c.txt`). What they mean is left
/// to the reader, who looks at the entry again (`Folder.entry(named:)`). A
/// folder created or moved in is `.folderAdded` (the reader lists it and
/// watches it), one removed or moved away `.folderRemoved`. The kernel's
/// queue is bounded (`fs.inotify.max_queued_events`): past it, events are lost
/// and `.overflow` says so.
public final class FolderWatch: Sendable {
    public let descriptor: FileDescriptor
    /// Each watch's folder, by its watch descriptor: "" for the top.
    private let folders = Locked<[CInt: String]>([:])
    private let top: CInt

    public enum Event: Equatable, Sendable {
        /// The entry may be new or changed: look at it again.
        case changed([UInt8])
        /// The entry is gone (removed, or renamed away).
        case removed([UInt8])
        /// A folder appeared at this path (created, or moved in): list it and watch it.
        case folderAdded([UInt8])
        /// The folder at this path went (removed, or moved away): its files go
        /// too, and its watches are forgotten (`forget`).
        case folderRemoved([UInt8])
        /// Events were lost: list the folder again.
        case overflow
        /// The folder itself was removed or moved away: the watch is over.
        case folderGone
    }

    static let entryMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE

    /// Watches `folder` (by its open descriptor, so the same folder even if
    /// its path was renamed since it was opened).
    public init(_ folder: Folder) throws(IOFailure) {
        descriptor = FileDescriptor(adopting: try Sys.inotifyInit())
        let selfMask = IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK
        let path = "/proc/self/fd/\(folder.descriptor.rawValue)"
        top = try Sys.inotifyAddWatch(descriptor.rawValue, path, UInt32(bitPattern: Self.entryMask | selfMask))
        folders.withLock { $0[top] = "" }
    }

    /// Also watches the sub-folder at the relative path `path`, open as
    /// `folder`. Throws when the kernel refuses (no watches left:
    /// `fs.inotify.max_user_watches`).
    public func watch(_ folder: Folder, as path: String) throws(IOFailure) {
        let mask = UInt32(bitPattern: Self.entryMask | IN_ONLYDIR | IN_EXCL_UNLINK)
        let watch = try Sys.inotifyAddWatch(descriptor.rawValue, "/proc/self/fd/\(folder.descriptor.rawValue)", mask)
        folders.withLock { $0[watch] = path }
    }

    /// Stops watching the sub-folders not in `paths` (after a listing of the tree).
    public func keepOnly(_ paths: Set<String>) {
        folders.withLock { folders in
            for (watch, path) in folders where watch != top && !paths.contains(path) {
                Sys.inotifyRemoveWatch(descriptor.rawValue, watch)
                folders[watch] = nil
            }
        }
    }

    /// Stops watching the folder `path` and every folder under it (it went).
    public func forget(_ path: String) {
        folders.withLock { folders in
            for (watch, watched) in folders
            where watch != top && (watched == path || watched.hasPrefix(path + "/")) {
                Sys.inotifyRemoveWatch(descriptor.rawValue, watch)
                folders[watch] = nil
            }
        }
    }

    /// How many folders are watched, the top one included.
    public var count: Int { folders.withLock { $0.count } }

    /// The events waiting, without blocking: empty if there are none. At most
    /// 16 reads of 64 KiB (a full kernel queue is about 512 KiB), so that a
    /// folder changing without pause still ends each batch; the rest waits for
    /// the next call.
    public func readEvents() throws(IOFailure) -> [Event] {
        var events: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        for _ in 0..<16 {
            let result = try buffer.withMutableBytes { bytes throws(IOFailure) in
                try Sys.readNow(descriptor.rawValue, bytes)
            }
            guard case .processed(let count) = result, count > 0 else { return events }
            let folders = self.folders.withLock { $0 }
            events += Self.parse(buffer[..<count], top: top) { folders[$0] }
        }
        return events
    }

    /// Decodes `struct inotify_event` records: wd, mask, cookie, len, then a
    /// NUL-padded name of `len` bytes. `folder` tells the relative path of a
    /// watch ("" for the top one, `top`); a watch it does not know (forgotten
    /// since) is skipped.
    static func parse(
        _ bytes: ArraySlice<UInt8>,
        top: CInt = 1,
        folder: (CInt) -> String? = { _ in "" }
    ) -> [Event] {
        var events: [Event] = []
        var offset = bytes.startIndex
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= bytes.endIndex {
            let word = { (at: Int) in
                UInt32(bytes[offset + at]) | UInt32(bytes[offset + at + 1]) << 8
                    | UInt32(bytes[offset + at + 2]) << 16 | UInt32(bytes[offset + at + 3]) << 24
            }
            let watch = CInt(bitPattern: word(0))
            let mask = word(4)
            let length = Int(word(12))
            let nameEnd = offset + header + length
            guard nameEnd <= bytes.endIndex else { break }  // cut short: the kernel reads whole records
            let name = Array(bytes[(offset + header)..<nameEnd].prefix { $0 != 0 })
            offset = nameEnd
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                events.append(.overflow)
                continue
            }
            let isSelf = mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT) != 0
            if isSelf {
                // The top folder gone ends the watch; a sub-folder's own news
                // comes with its parent's, as `.foldersChanged`.
                if watch == top { events.append(.folderGone) }
                continue
            }
            guard !name.isEmpty, let prefix = folder(watch) else { continue }  // news of a folder itself
            let path = prefix.isEmpty ? name : Array(prefix.utf8) + [UInt8(ascii: "/")] + name
            if mask & UInt32(bitPattern: IN_ISDIR) != 0 {
                if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { events.append(.folderAdded(path)) }
                if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 { events.append(.folderRemoved(path)) }
                continue
            }
            if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                events.append(.removed(path))
            } else {
                events.append(.changed(path))
            }
        }
        return events
    }
}
