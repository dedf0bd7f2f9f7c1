import CPPlus2Shims
import Glibc

// MARK: Files and folders

extension Sys {
    static func open(_ path: String, _ flags: CInt) throws(IOFailure) -> CInt {
        try call("open") { Glibc.open(path, flags | O_CLOEXEC) }
    }

    static func openAt(_ dir: CInt, _ name: String, _ flags: CInt, _ mode: mode_t = 0) throws(IOFailure) -> CInt {
        try call("openat") { Glibc.openat(dir, name, flags | O_CLOEXEC, mode) }
    }

    static func read(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws(IOFailure) -> Int {
        try call("read", fd: fd, count: buffer.count) { Glibc.read(fd, buffer.baseAddress, $0) }
    }

    /// `pread`: reads at `offset` without moving the file position.
    static func readAt(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) throws(IOFailure) -> Int {
        try call("pread", fd: fd, count: buffer.count) { Glibc.pread(fd, buffer.baseAddress, $0, off_t(offset)) }
    }

    /// `read` on a non-blocking descriptor (a pipe).
    static func readNow(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws(IOFailure) -> IOResult<Int> {
        try nonBlocking("read", fd: fd, count: buffer.count) { Glibc.read(fd, buffer.baseAddress, $0) }
    }

    /// `pwrite`: writes at `offset` without moving the file position.
    static func writeAt(_ fd: CInt, _ buffer: UnsafeRawBufferPointer, _ offset: Int64) throws(IOFailure) -> Int {
        try call("pwrite", fd: fd, count: buffer.count) { Glibc.pwrite(fd, buffer.baseAddress, $0, off_t(offset)) }
    }

    /// `ftruncate`.
    static func truncate(_ fd: CInt, _ size: Int64) throws(IOFailure) {
        _ = try call("ftruncate", fd: fd) { Glibc.ftruncate(fd, off_t(size)) }
    }

    static func write(_ fd: CInt, _ buffer: UnsafeRawBufferPointer) throws(IOFailure) -> Int {
        try call("write", fd: fd, count: buffer.count) { Glibc.write(fd, buffer.baseAddress, $0) }
    }

    static func fstat(_ fd: CInt) throws(IOFailure) -> stat {
        var info = stat()
        _ = try call("fstat", fd: fd) { Glibc.fstat(fd, &info) }
        return info
    }

    /// `fstatat` without following a final symbolic link.
    static func lstatAt(_ dir: CInt, _ name: UnsafePointer<CChar>) throws(IOFailure) -> stat {
        var info = stat()
        _ = try call("fstatat") { Glibc.fstatat(dir, name, &info, AT_SYMLINK_NOFOLLOW) }
        return info
    }

    /// `renameat2(RENAME_NOREPLACE)`: fails with `EEXIST` instead of replacing.
    static func renameNoReplace(_ dir: CInt, _ from: String, _ to: String) throws(IOFailure) {
        _ = try call("renameat2") { cpplus2_rename_noreplace(dir, from, to) }
    }

    static func renameAt(_ dir: CInt, _ from: String, _ to: String) throws(IOFailure) {
        _ = try call("renameat") { Glibc.renameat(dir, from, dir, to) }
    }

    static func linkAt(_ dir: CInt, _ from: String, _ to: String) throws(IOFailure) {
        _ = try call("linkat") { Glibc.linkat(dir, from, dir, to, 0) }
    }

    /// `renameat2(RENAME_NOREPLACE)` from one folder into another.
    static func renameNoReplace(_ fromDir: CInt, _ from: String, into toDir: CInt, _ to: String) throws(IOFailure) {
        _ = try call("renameat2") { cpplus2_rename_noreplace_into(fromDir, from, toDir, to) }
    }

    static func linkAt(_ fromDir: CInt, _ from: String, into toDir: CInt, _ to: String) throws(IOFailure) {
        _ = try call("linkat") { Glibc.linkat(fromDir, from, toDir, to, 0) }
    }

    static func makeDirectoryAt(_ dir: CInt, _ name: String, mode: mode_t) throws(IOFailure) {
        _ = try call("mkdirat") { Glibc.mkdirat(dir, name, mode) }
    }

    static func unlinkAt(_ dir: CInt, _ name: String) throws(IOFailure) {
        _ = try call("unlinkat") { Glibc.unlinkat(dir, name, 0) }
    }

    static func fsync(_ fd: CInt) throws(IOFailure) {
        _ = try call("fsync", fd: fd) { Glibc.fsync(fd) }
    }

    /// Bytes available to an unprivileged writer on the file system of `fd` (`fstatvfs`).
    static func freeBytes(_ fd: CInt) throws(IOFailure) -> Int64 {
        var info = statvfs()
        _ = try call("fstatvfs", fd: fd) { Glibc.fstatvfs(fd, &info) }
        return Int64(clamping: UInt64(info.f_bavail) &* UInt64(info.f_frsize))
    }

    static func makeDirectory(_ path: String, mode: mode_t) throws(IOFailure) {
        _ = try call("mkdir") { Glibc.mkdir(path, mode) }
    }

    /// The absolute, resolved form of `path`; nil if it cannot be resolved.
    static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Every entry of the folder open as `dir` but `.` and `..`: its raw name
    /// and, not following symbolic links, its status (nil if it vanished since
    /// `readdir`). One `readdir` pass, one `fstatat` an entry.
    static func readDirectory(_ dir: CInt) throws(IOFailure) -> [(name: [UInt8], info: stat?)] {
        var result: [(name: [UInt8], info: stat?)] = []
        try forEachEntry(dir) { name, info in result.append((Array(name), info)) }
        return result
    }

    /// `readDirectory` without a copy of each name: `body` sees the name in
    /// place, valid only during the call (a listing of a million names does not
    /// make a million arrays).
    static func forEachEntry(
        _ dir: CInt,
        _ body: (_ name: UnsafeRawBufferPointer, _ info: stat?) -> Void
    ) throws(IOFailure) {
        // fdopendir takes ownership of its descriptor: give it a fresh one.
        let raw = try openAt(dir, ".", O_RDONLY | O_DIRECTORY)
        guard let stream = fdopendir(raw) else {
            let failure = IOFailure.system(call: "fdopendir", errno: Errno(Glibc.errno))
            close(raw)
            throw failure
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { pointer in
                    let name = UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))
                    if name.elementsEqual([0x2E]) || name.elementsEqual([0x2E, 0x2E]) { return }
                    body(name, try? lstatAt(dir, pointer))
                }
            }
        }
    }
}

// MARK: Watching a folder

extension Sys {
    /// `inotify_init1`, non-blocking.
    static func inotifyInit() throws(IOFailure) -> CInt {
        try call("inotify_init1") { Glibc.inotify_init1(CInt(IN_NONBLOCK | IN_CLOEXEC)) }
    }

    /// Returns the watch descriptor.
    static func inotifyAddWatch(_ fd: CInt, _ path: String, _ mask: UInt32) throws(IOFailure) -> CInt {
        try call("inotify_add_watch", fd: fd) { Glibc.inotify_add_watch(fd, path, mask) }
    }

    static func inotifyRemoveWatch(_ fd: CInt, _ watch: CInt) {
        _ = Glibc.inotify_rm_watch(fd, watch)
    }
}

extension Sys {
    /// `sync_file_range`: starts the write-back of a range, and waits for it if
    /// `wait`. Best effort: a file system without it (or an error) is left to
    /// the `fsync` that follows, which reports what matters.
    static func syncRange(_ fd: CInt, offset: Int64, count: Int64, wait: Bool) {
        _ = try? call("sync_file_range", fd: fd) { cpplus2_sync_file_range(fd, offset, count, wait ? 1 : 0) }
    }
}
