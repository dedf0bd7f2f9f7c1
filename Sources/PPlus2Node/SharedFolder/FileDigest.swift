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

    /// The SHA-256 of `file` and of each of its pieces, in one read, if it
    /// holds exactly `size` bytes; nil if a read failed, the size differs or
    /// `shouldStop` said so between two reads.
    static func sha256AndPieces(
        of file: FileDescriptor,
        size: Int64,
        buffer: inout [UInt8],
        shouldStop: () -> Bool = { false }
    ) -> (sha256: SHA256Digest, pieces: PieceList)? {
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: 1 << 20) }
        var hasher = PieceHasher(size: size, blockFunction: sha256BlockFunction)
        var offset: Int64 = 0
        while !shouldStop() {
            let count = buffer.withUnsafeMutableBytes { (try? FileReading.read(file, into: $0, at: offset)) ?? -1 }
            if count < 0 { return nil }
            if count == 0 { return offset == size ? hasher.finish(size: size) : nil }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += Int64(count)
            if offset > size { return nil }
        }
        return nil
    }

    /// Whether piece `index` of `file` goes from where `pieces` says it starts
    /// to where it says it ends (`PieceList`); false if it cannot be read whole.
    static func piece(
        _ index: Int,
        of pieces: PieceList,
        in file: FileDescriptor,
        buffer: inout [UInt8]
    ) -> Bool {
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: 1 << 20) }
        let range = pieces.range(ofPiece: index)
        var hasher = pieces.hasher(forPiece: index, blockFunction: sha256BlockFunction)
        var offset = range.lowerBound
        while offset < range.upperBound {
            let wanted = Int(min(Int64(buffer.count), range.upperBound - offset))
            let count = buffer.withUnsafeMutableBytes { bytes in
                (try? FileReading.read(
                    file,
                    into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<wanted]),
                    at: offset
                ))
                    ?? -1
            }
            guard count > 0 else { return false }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += Int64(count)
        }
        return pieces.ends(&hasher, piece: index)
    }
}
