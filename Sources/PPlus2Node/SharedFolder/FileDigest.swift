import PPlus2Core
import PPlus2POSIX

/// The one place the peer reads a file back to hash it: `pread` through a
/// caller's buffer (never `mmap`: a file truncated while mapped would kill
/// the reader with SIGBUS), with this machine's block function.
enum FileDigest {
    /// The SHA-256 of `file` from its start to its end; the size hashed with
    /// it. nil if a read failed or `shouldStop` said so between two reads.
    static func sha256(
        of file: FileDescriptor,
        buffer: inout [UInt8],
        shouldStop: () -> Bool = { false }
    ) -> (digest: SHA256Digest, size: Int64)? {
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: 1 << 20) }
        var hasher = SHA256(blockFunction: sha256BlockFunction)
        var offset: Int64 = 0
        while !shouldStop() {
            let count = buffer.withUnsafeMutableBytes { (try? FileReading.read(file, into: $0, at: offset)) ?? -1 }
            if count < 0 { return nil }
            if count == 0 { return (hasher.finish(), offset) }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += Int64(count)
        }
        return nil
    }
}
