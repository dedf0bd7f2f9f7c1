/// Hands a file to the disk while it is written, so that the `fsync` before
/// it takes its name waits only for the tail: a download saved durably runs
/// at the speed of the slower of the network and the disk, not of the network
/// then the disk.
///
/// Every `step` bytes, the step just written starts its write-back
/// (`sync_file_range(WRITE)`, which does not wait), and the step before the
/// previous one is waited for, so at most three steps of the file are dirty
/// in memory at once, however large it is. On tmpfs these calls do nothing.
public struct WriteBack: Sendable {
    public static let step: Int64 = 8 << 20
    /// Where the next step to hand over starts.
    private var handed: Int64
    /// Where the writing is.
    private var position: Int64

    /// For a file written from `offset` on (a resumed partial: its length).
    public init(from offset: Int64) {
        handed = offset
        position = offset
    }

    /// Records `count` more bytes written at the end of `file`.
    public mutating func wrote(_ count: Int, to file: FileDescriptor) {
        position += Int64(count)
        while position - handed >= Self.step {
            Sys.syncRange(file.rawValue, offset: handed, count: Self.step, wait: false)
            let waited = handed - 2 * Self.step
            if waited >= 0 { Sys.syncRange(file.rawValue, offset: waited, count: Self.step, wait: true) }
            handed += Self.step
        }
    }
}
