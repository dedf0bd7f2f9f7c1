import Glibc

/// An open folder: every file operation of the peer goes through a descriptor
/// of its shared folder (`openat`, `renameat2`...), so a name can never reach
/// outside it, even if the folder's path is renamed or swapped meanwhile.
public struct Folder: Sendable {
    public let descriptor: FileDescriptor
    /// The absolute path the folder was opened by.
    public let path: String

    /// Creates the folder and its parents if missing (mode 0755), then opens it.
    public static func open(creatingIfMissing path: String) throws(IOFailure) -> Folder {
        try makeDirectories(path)
        let descriptor = FileDescriptor(adopting: try Sys.open(path, O_RDONLY | O_DIRECTORY))
        return Folder(descriptor: descriptor, path: Sys.realPath(path) ?? path)
    }

    /// Opens the folder at `path` if one is there (never creating it, never
    /// through a symbolic link as its last component): `ENOENT` if nothing
    /// is, `ENOTDIR` if a file took its place, `ELOOP` for a link.
    public static func open(existing path: String) throws(IOFailure) -> Folder {
        let descriptor = FileDescriptor(adopting: try Sys.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
        return Folder(descriptor: descriptor, path: path)
    }

    /// True once the folder was removed (no name links to it any more): what
    /// is created in it is lost with it.
    public var isRemoved: Bool {
        guard let info = try? Sys.fstat(descriptor.rawValue) else { return true }
        return info.st_nlink == 0
    }

    private static func makeDirectories(_ path: String) throws(IOFailure) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            do {
                try Sys.makeDirectory(prefix, mode: 0o755)
            } catch {
                if error.errno != .fileExists { throw error }
            }
            prefix += "/"
        }
    }

    /// Opens `name` for reading only if it is a regular file: the final
    /// component is never followed as a symbolic link (`O_NOFOLLOW`), a FIFO
    /// cannot block the open (`O_NONBLOCK`), and the type is checked on the
    /// opened descriptor, not before it (no check-then-use race).
    public func openRegularFile(_ name: String) throws(IOFailure) -> (file: FileDescriptor, size: Int64) {
        let opened = try openRegularFileWithStatus(name)
        return (opened.file, opened.status.size)
    }

    /// `openRegularFile`, with the opened file's status: its version. A
    /// relative path (`a/b/c.txt`) is opened beneath this folder, never
    /// through a symbolic link in any component (`parent(of:)`).
    public func openRegularFileWithStatus(
        _ name: String
    ) throws(IOFailure) -> (file: FileDescriptor, status: FileStatus) {
        if name.utf8.contains(UInt8(ascii: "/")) {
            let (folder, last) = try parent(of: name)
            return try folder.openRegularFileWithStatus(last)
        }
        let raw = try Sys.openAt(descriptor.rawValue, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        let file = FileDescriptor(adopting: raw)
        let info = try Sys.fstat(raw)
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile }
        return (file, FileStatus(info))
    }

    /// Opens `name` to write at its end and read back (a kept partial download
    /// being resumed); never follows a link. Returns the file and its length.
    public func openForAppending(_ name: String) throws(IOFailure) -> (file: FileDescriptor, size: Int64) {
        let raw = try Sys.openAt(descriptor.rawValue, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_NOCTTY)
        let file = FileDescriptor(adopting: raw)
        let info = try Sys.fstat(raw)
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile }
        return (file, Int64(info.st_size))
    }

    /// Bytes free for an unprivileged writer on the folder's file system.
    public func freeBytes() throws(IOFailure) -> Int64 {
        try Sys.freeBytes(descriptor.rawValue)
    }

    /// Creates `name` for writing; fails if anything already has that name.
    /// With `readable`, it can be read back too (a download hashed as it arrives).
    public func createExclusive(
        _ name: String,
        mode: mode_t = 0o644,
        readable: Bool = false
    ) throws(IOFailure) -> FileDescriptor {
        let flags = (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY
        return FileDescriptor(adopting: try Sys.openAt(descriptor.rawValue, name, flags, mode))
    }

    /// Gives `from` the name `to`, atomically, and only if `to` is free: returns
    /// false if `to` exists. Never replaces a file. Falls back to `link` +
    /// `unlink` (equally atomic and non-replacing) on file systems without
    /// `RENAME_NOREPLACE`.
    public func renameWithoutReplacing(_ from: String, to: String) throws(IOFailure) -> Bool {
        do {
            try Sys.renameNoReplace(descriptor.rawValue, from, to)
            return true
        } catch {
            if error.errno == .fileExists { return false }
            guard error.errno == .invalidArgument || error.errno == .notImplemented else { throw error }
        }
        do {
            try Sys.linkAt(descriptor.rawValue, from, to)
        } catch {
            if error.errno == .fileExists { return false }
            throw error
        }
        remove(from)
        return true
    }

    /// Gives `from` the name `to`, replacing what `to` was: only for the peer's
    /// own state files, never for shared files.
    public func renameReplacing(_ from: String, to: String) throws(IOFailure) {
        try Sys.renameAt(descriptor.rawValue, from, to)
    }

    /// Reads the peer's own state file `name` whole; nil if there is none.
    /// Throws if it is larger than `maxBytes`.
    public func readSmallFile(_ name: String, maxBytes: Int) throws(IOFailure) -> [UInt8]? {
        var bytes: [UInt8] = []
        let found = try readFile(name, maxBytes: maxBytes) { block in
            bytes += block
            return true
        }
        return found ? bytes : nil
    }

    /// Reads the peer's own state file `name` a block of 1 MiB at a time,
    /// while `body` returns true; false if there is no such file. Throws if it
    /// is larger than `maxBytes`.
    public func readFile(
        _ name: String,
        maxBytes: Int,
        _ body: (ArraySlice<UInt8>) -> Bool
    ) throws(IOFailure) -> Bool {
        let opened: (file: FileDescriptor, size: Int64)
        do {
            opened = try openRegularFile(name)
        } catch {
            if error.errno == .noSuchFile { return false }
            throw error
        }
        guard opened.size <= maxBytes else { throw .fileTooLarge(limit: maxBytes) }
        var buffer = [UInt8](repeating: 0, count: Int(min(opened.size, 1 << 20)) + 1)
        var total = 0
        while true {
            let count = try buffer.withMutableBytes { bytes throws(IOFailure) in
                try Sys.read(opened.file.rawValue, bytes)
            }
            total += count
            guard count > 0, total <= maxBytes, body(buffer[..<count]) else { break }
        }
        guard total <= maxBytes else { throw .fileTooLarge(limit: maxBytes) }  // it grew meanwhile
        return true
    }

    /// Replaces the peer's own state file `name` with `bytes`, atomically:
    /// written to `draft`, synced, then renamed over `name`.
    public func replaceSmallFile(_ name: String, with bytes: [UInt8], draft: String) throws(IOFailure) {
        try replaceFile(name, draft: draft, blocks: CollectionOfOne(bytes))
    }

    /// `replaceSmallFile` with the content made a block at a time.
    public func replaceFile(_ name: String, draft: String, blocks: some Sequence<[UInt8]>) throws(IOFailure) {
        remove(draft)
        let file = try createExclusive(draft)
        do {
            for block in blocks {
                try block.withBytes { buffer throws(IOFailure) in try FileWriting.writeAll(file, buffer) }
            }
            try FileWriting.sync(file)
            try renameReplacing(draft, to: name)
        } catch {
            remove(draft)
            throw error
        }
    }

    /// Removes `name`; true if it was there.
    @discardableResult
    public func remove(_ name: String) -> Bool {
        (try? Sys.unlinkAt(descriptor.rawValue, name)) != nil
    }

    /// The folder's change stamp: its modification time and inode. Adding,
    /// removing or renaming an entry changes it.
    public func changeStamp() -> ChangeStamp? {
        guard let info = try? Sys.fstat(descriptor.rawValue) else { return nil }
        return ChangeStamp(seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec, inode: info.st_ino)
    }

    /// Lists the entries of the folder: one `readdir` pass plus one `fstatat`
    /// per entry, not following symbolic links. `.` and `..` are left out.
    public func entries() throws(IOFailure) -> [Entry] {
        try Sys.readDirectory(descriptor.rawValue).compactMap { name, info in
            info.map { Entry(nameBytes: name, info: $0) }  // nil: vanished since readdir
        }
    }

    /// `entries()` without a copy of each name: `body` sees the name in place,
    /// valid only during the call, with the entry's kind and status.
    public func forEachEntry(
        _ body: (_ name: UnsafeRawBufferPointer, _ kind: Entry.Kind, _ status: FileStatus) -> Void
    ) throws(IOFailure) {
        try Sys.forEachEntry(descriptor.rawValue) { name, info in
            guard let info else { return }  // vanished since readdir
            body(name, Entry.Kind(info), FileStatus(info))
        }
    }

    /// The entry `name` now (one `fstatat`, not following a symbolic link);
    /// nil if there is none. A relative path is looked at in its folder,
    /// reached by `subfolder` (nil if a component is not a real folder).
    public func entry(named name: [UInt8]) -> Entry? {
        if let slash = name.lastIndex(of: UInt8(ascii: "/")) {
            guard let folder = try? subfolder(String(decoding: name[..<slash], as: UTF8.self)),
                var entry = folder.entry(named: Array(name[(slash + 1)...]))
            else { return nil }
            entry.nameBytes = name
            return entry
        }
        guard !name.contains(0) else { return nil }
        let info = (name + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { try? Sys.lstatAt(descriptor.rawValue, $0.baseAddress!) }
        }
        return info.map { Entry(nameBytes: name, info: $0) }
    }

    /// One entry of a folder listing.
    public struct Entry: Sendable {
        public enum Kind: Sendable {
            case regular
            case directory
            case symbolicLink
            /// FIFO, socket, device.
            case other

            init(_ info: stat) {
                self =
                    switch info.st_mode & S_IFMT {
                    case S_IFREG: .regular
                    case S_IFDIR: .directory
                    case S_IFLNK: .symbolicLink
                    default: .other
                    }
            }
        }

        /// The raw name: file names are bytes, not always valid UTF-8.
        public internal(set) var nameBytes: [UInt8]
        public let kind: Kind
        public let status: FileStatus

        public var size: Int64 { status.size }

        init(nameBytes: [UInt8], info: stat) {
            self.nameBytes = nameBytes
            kind = Kind(info)
            status = FileStatus(info)
        }
    }

    /// When a folder last changed.
    public struct ChangeStamp: Equatable, Sendable {
        public let seconds: Int
        public let nanoseconds: Int
        public let inode: UInt

        /// The change time in seconds since the epoch (wall clock).
        public var time: Double { Double(seconds) + Double(nanoseconds) / 1e9 }
    }
}

/// What identifies one version of a file: when any of these changes, its
/// bytes may have (a file rewritten in place, appended to, replaced).
public struct FileStatus: Hashable, Sendable {
    public let size: Int64
    /// Modification time, nanoseconds since the epoch.
    public let modified: Int64
    public let inode: UInt64

    public init(size: Int64, modified: Int64, inode: UInt64) {
        self.size = size
        self.modified = modified
        self.inode = inode
    }

    init(_ info: stat) {
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        inode = UInt64(info.st_ino)
    }
}

extension FileDescriptor {
    /// The status of the open file now (`fstat`).
    public func status() throws(IOFailure) -> FileStatus {
        FileStatus(try Sys.fstat(rawValue))
    }
}

/// Reading an open file.
public enum FileReading {
    /// Opens the regular file at `path` for reading (a tool's argument, not a shared file).
    public static func open(_ path: String) throws(IOFailure) -> FileDescriptor {
        let file = FileDescriptor(adopting: try Sys.open(path, O_RDONLY | O_NOCTTY))
        guard try Sys.fstat(file.rawValue).st_mode & S_IFMT == S_IFREG else { throw .notARegularFile }
        return file
    }

    /// Reads up to `buffer.count` bytes at `offset` (`pread`); 0 at the end.
    public static func read(
        _ file: FileDescriptor,
        into buffer: UnsafeMutableRawBufferPointer,
        at offset: Int64
    ) throws(IOFailure) -> Int {
        try Sys.readAt(file.rawValue, buffer, offset)
    }
}

/// An open file written by the peer.
public enum FileWriting {
    /// Writes every byte of `bytes` to `file`.
    public static func writeAll(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws(IOFailure) {
        var offset = 0
        while offset < bytes.count {
            let count = try Sys.write(file.rawValue, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            if count == 0 { throw .wroteNothing }
            offset += count
        }
    }

    /// Writes every byte of `bytes` to `file` at `offset` (`pwrite`).
    public static func writeAll(
        _ file: FileDescriptor,
        _ bytes: UnsafeRawBufferPointer,
        at offset: Int64
    ) throws(IOFailure) {
        var done = 0
        while done < bytes.count {
            let count = try Sys.writeAt(
                file.rawValue,
                UnsafeRawBufferPointer(rebasing: bytes[done...]),
                offset + Int64(done)
            )
            if count == 0 { throw .wroteNothing }
            done += count
        }
    }

    /// Cuts or extends `file` to `size` bytes.
    public static func truncate(_ file: FileDescriptor, to size: Int64) throws(IOFailure) {
        try Sys.truncate(file.rawValue, size)
    }

    /// Flushes the file's data to the disk.
    public static func sync(_ file: FileDescriptor) throws(IOFailure) {
        try Sys.fsync(file.rawValue)
    }
}
