import Glibc

/// The kernel's news of one folder (`inotify(7)`): entries created, written,
/// removed and renamed, as they happen, so an index of the folder can follow
/// it without listing it again.
///
/// Events name entries directly inside the folder; what they mean is left to
/// the reader, who looks at the entry again (`Folder.entry(named:)`). The
/// kernel's queue is bounded (`fs.inotify.max_queued_events`): past it,
/// events are lost and `.overflow` says so.
public final class FolderWatch: Sendable {
    public let descriptor: FileDescriptor

    public enum Event: Equatable, Sendable {
        /// The entry may be new or changed: look at it again.
        case changed([UInt8])
        /// The entry is gone (removed, or renamed away).
        case removed([UInt8])
        /// Events were lost: list the folder again.
        case overflow
        /// The folder itself was removed or moved away: the watch is over.
        case folderGone
    }

    /// Watches `folder` (by its open descriptor, so the same folder even if
    /// its path was renamed since it was opened).
    public init(_ folder: Folder) throws(IOFailure) {
        descriptor = FileDescriptor(adopting: try Sys.inotifyInit())
        let mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE
        let selfMask = IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK
        let path = "/proc/self/fd/\(folder.descriptor.rawValue)"
        try Sys.inotifyAddWatch(descriptor.rawValue, path, UInt32(bitPattern: mask | selfMask))
    }

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
            events += Self.parse(buffer[..<count])
        }
        return events
    }

    /// Decodes `struct inotify_event` records: wd, mask, cookie, len, then a
    /// NUL-padded name of `len` bytes.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [Event] {
        var events: [Event] = []
        var offset = bytes.startIndex
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= bytes.endIndex {
            let word = { (at: Int) in
                UInt32(bytes[offset + at]) | UInt32(bytes[offset + at + 1]) << 8
                    | UInt32(bytes[offset + at + 2]) << 16 | UInt32(bytes[offset + at + 3]) << 24
            }
            let mask = word(4)
            let length = Int(word(12))
            let nameEnd = offset + header + length
            guard nameEnd <= bytes.endIndex else { break }  // cut short: the kernel reads whole records
            let name = Array(bytes[(offset + header)..<nameEnd].prefix { $0 != 0 })
            offset = nameEnd
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                events.append(.overflow)
            } else if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT) != 0 {
                events.append(.folderGone)
            } else if name.isEmpty {
                continue  // news of the folder itself (its attributes): nothing to look at
            } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                events.append(.removed(name))
            } else {
                events.append(.changed(name))
            }
        }
        return events
    }
}
