import PPlus2Core
import PPlus2POSIX

/// One listing of the shared folder and its sub-folders: the files offered,
/// by relative path (`Album 3/01 Intro.flac`), the folders followed, and what
/// was left out and why.
///
/// - Only real folders are entered, never a symbolic link (each one opened
///   beneath its parent with `O_NOFOLLOW`), never a hidden one (`.git`).
/// - Bounded: files at most `SharedPath.maxComponents` components deep, at
///   most `maxFolders` folders (a tree past that is offered in part, and the
///   start summary says so).
/// - With a `FolderWatch`, each folder entered is watched as it is listed, so
///   a change during the listing is news afterwards, never lost.
struct FolderTree {
    /// The most sub-folders followed (each costs one inotify watch).
    static let maxFolders = 10_000

    /// What a listing left out, by reason.
    struct Skipped: Equatable, Sendable {
        var symbolicLinks = 0
        /// Names starting with `.` (the peer's own state files not counted).
        var hidden = 0
        /// Folders whose files would be more than `SharedPath.maxComponents` deep.
        var tooDeep = 0
        /// Folders past `maxFolders`.
        var pastFolderLimit = 0
        /// Names with a control character, not UTF-8, or too long.
        var badNames = 0
        /// FIFOs, sockets, devices.
        var other = 0
    }

    var index = NameIndex.Builder().build()
    /// The sub-folders followed, by relative path.
    var folders: Set<String> = []
    var skipped = Skipped()
    /// A folder could not be watched (no inotify watches left).
    var watchFailure: IOFailure?

    /// Lists `top` and its sub-folders (or only the sub-folder `start` and
    /// its own), watching each with `watch` if given.
    init(listing top: Folder, from start: String = "", watch: FolderWatch? = nil) {
        var builder = NameIndex.Builder()
        var pending = [start]
        if !start.isEmpty { folders.insert(start) }
        while let path = pending.popLast() {
            // A folder gone since it was seen is skipped.
            guard let folder = path.isEmpty ? top : try? top.subfolder(path) else { continue }
            if !path.isEmpty, watchFailure == nil, let watch {
                do { try watch.watch(folder, as: path) } catch { watchFailure = error }  // listed again instead
            }
            let depth = path.isEmpty ? 0 : SharedPath.components(path).count
            try? folder.forEachEntry { name, kind, status in
                let relative = path.isEmpty ? Array(name) : Array(path.utf8) + [UInt8(ascii: "/")] + Array(name)
                switch kind {
                case .regular:
                    if name.first == UInt8(ascii: ".") {
                        if !(path.isEmpty && HiddenFile(name: String(decoding: name, as: UTF8.self)) != nil) {
                            skipped.hidden += 1
                        }
                    } else if SharedPath.validated(utf8: relative) != nil {
                        builder.add(name: relative, status: status)
                    } else {
                        skipped.badNames += 1
                    }
                case .directory:
                    if name.first == UInt8(ascii: ".") {
                        skipped.hidden += 1
                    } else if depth + 1 >= SharedPath.maxComponents {
                        skipped.tooDeep += 1
                    } else if folders.count >= Self.maxFolders {
                        skipped.pastFolderLimit += 1
                    } else if let child = SharedPath.validated(utf8: relative) {
                        folders.insert(child)
                        pending.append(child)
                    } else {
                        skipped.badNames += 1
                    }
                case .symbolicLink: skipped.symbolicLinks += 1
                case .other: skipped.other += 1
                }
            }
        }
        index = builder.build()
    }
}
