import PPlus2Core
import PPlus2POSIX

/// Hashes a file while a download writes it, when no piece list checks it
/// (a source without one, a size-only check): a thread of its own reads the
/// bytes back from the page cache right behind the writer, so the check at the
/// end waits only for the tail. One 1 MiB buffer, whatever the file's size.
final class HashFollower: ThreadOwner, @unchecked Sendable {
    private static let chunk = 1 << 20

    private let file: FileDescriptor
    private let thread = ThreadHandle()
    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var written: Int64 = 0
    private var isComplete = false
    private var result: SHA256Digest??

    /// Starts hashing `file` from its first byte; `written` bytes are there already.
    init(file: FileDescriptor, written: Int64) throws(IOFailure) {
        self.file = file
        self.written = written
        try thread.start(name: "hash-follow") { [self] in run() }
    }

    /// The writer has written `count` bytes in all (several writers may
    /// tell in any order: the furthest counts).
    func advance(to count: Int64) {
        lock.withLock {
            written = max(written, count)
            lock.signal()
        }
    }

    /// The writer is done: waits for the last bytes and returns the digest of
    /// the first `written` bytes; nil if reading the file back failed.
    func finish() -> SHA256Digest? {
        lock.withLock {
            isComplete = true
            lock.signal()
            while result == nil { lock.wait() }
        }
        join()
        return lock.withLock { result ?? nil }
    }

    /// Abandons the hash (the download failed).
    func stop() {
        guard thread.requestStop() else { return }
        lock.withLock { lock.broadcast() }
    }

    func join() {
        thread.join()
    }

    private func run() {
        var hasher = SHA256(blockFunction: sha256BlockFunction)
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        var hashed: Int64 = 0
        while true {
            let (target, complete) = lock.withLock { () -> (Int64, Bool) in
                while !thread.isStopping && !isComplete && written - hashed < Int64(Self.chunk) { lock.wait() }
                return (written, isComplete)
            }
            if thread.isStopping { return publish(nil) }
            while hashed < target {
                let wanted = Int(min(Int64(Self.chunk), target - hashed))
                let count = buffer.withUnsafeMutableBytes { bytes in
                    (try? FileReading.read(
                        file,
                        into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<wanted]),
                        at: hashed
                    ))
                        ?? -1
                }
                guard count > 0 else { return publish(nil) }
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                hashed += Int64(count)
            }
            if complete { return publish(hasher.finish()) }
        }
    }

    private func publish(_ digest: SHA256Digest?) {
        lock.withLock {
            result = .some(digest)
            lock.broadcast()
        }
    }
}
