/// Moves what arrives on a socket into a file without copying it through user
/// space: `splice(2)` from the socket into a pipe, then from the pipe into the
/// file; the kernel moves page references. Where splice is not supported (some
/// file systems), it falls back to `recv` + `write` through one buffer. The
/// file's write-back starts as it grows (`WriteBack`).
public final class SocketToFile {
    /// Which side of the transfer failed.
    public enum Failure: Error, Equatable {
        /// Reading from the socket: a reset, a timeout.
        case receiving(IOFailure)
        /// Writing to the file: disk full, file too large, I/O error.
        case writing(IOFailure)
    }

    private static let chunk = 1 << 20
    private var pipe: NonBlockingPipe?
    private var buffer: [UInt8] = []
    private var writeBack: WriteBack
    /// Where the next byte goes, when writing at a position of the file (one
    /// range of a multi-source download); nil: at the file's end.
    private var position: Int64?

    /// For a file written from `offset` on (a resumed partial: its length);
    /// with `positioned`, written at `offset` whatever the file's end.
    public init(writingFrom offset: Int64 = 0, positioned: Bool = false) {
        writeBack = WriteBack(from: offset)
        position = positioned ? offset : nil
        if let pipe = try? NonBlockingPipe() {
            Sys.setPipeSize(pipe.writeEnd.rawValue, Self.chunk)  // best effort
            self.pipe = pipe
        }
    }

    /// Moves up to `limit` bytes that arrived on `socket` into `file`, waiting at
    /// most `timeout` seconds for the first one. Returns the bytes moved, 0 at
    /// the end of the stream.
    public func move(
        from socket: TCPSocket,
        to file: FileDescriptor,
        limit: Int,
        timeout: Double
    ) throws(Failure)
        -> Int
    {
        var moved: Int?
        if let pipe {
            moved = try splice(from: socket, to: file, through: pipe, limit: limit, timeout: timeout)
            if moved == nil { self.pipe = nil }  // not supported here: fall back for good
        }
        let count: Int
        if let moved { count = moved } else { count = try copy(from: socket, to: file, limit: limit, timeout: timeout) }
        writeBack.wrote(count, to: file)
        return count
    }

    /// nil if splice is not supported between these descriptors.
    private func splice(
        from socket: TCPSocket,
        to file: FileDescriptor,
        through pipe: NonBlockingPipe,
        limit: Int,
        timeout: Double
    ) throws(Failure) -> Int? {
        let arrived: Int
        do {
            guard let count = try spliceIn(from: socket, to: pipe, limit: limit, timeout: timeout) else { return nil }
            arrived = count
        } catch {
            throw .receiving(error)
        }
        var remaining = arrived
        while remaining > 0 {
            let written: IOResult<Int>
            do {
                if var at = position {
                    written = .processed(try Sys.splice(pipe.readEnd.rawValue, file.rawValue, remaining, at: &at))
                    position = at
                } else {
                    written = try Sys.splice(pipe.readEnd.rawValue, file.rawValue, remaining, nonBlocking: false)
                }
            } catch {
                guard Self.isUnsupported(error), remaining == arrived else { throw .writing(error) }
                try drain(pipe, count: remaining, to: file)  // the file side cannot splice
                self.pipe = nil
                return arrived
            }
            switch written {
            case .processed(0): throw .writing(.wroteNothing)
            case .processed(let count): remaining -= count
            case .wouldBlock: continue  // the pipe holds `remaining` bytes: it cannot stay empty
            }
        }
        return arrived
    }

    /// Splices what arrived on the socket into the pipe; nil if splice is not supported.
    private func spliceIn(
        from socket: TCPSocket,
        to pipe: NonBlockingPipe,
        limit: Int,
        timeout: Double
    ) throws(IOFailure) -> Int? {
        while true {
            do {
                let moved = try Sys.splice(socket.fd, pipe.writeEnd.rawValue, min(limit, Self.chunk), nonBlocking: true)
                if case .processed(let count) = moved { return count }
            } catch {
                if Self.isUnsupported(error) { return nil }
                throw error
            }
            guard socket.descriptor.waitUntilReadable(timeout: timeout) else { throw .timedOut(.reading) }
        }
    }

    private static func isUnsupported(_ failure: IOFailure) -> Bool {
        failure.errno == .invalidArgument || failure.errno == .notImplemented
    }

    /// Empties `count` bytes from the pipe into the file with read and write.
    private func drain(_ pipe: NonBlockingPipe, count: Int, to file: FileDescriptor) throws(Failure) {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let read: IOResult<Int>
            do {
                read = try bytes.withMutableBytes { buffer throws(IOFailure) in
                    try Sys.readNow(pipe.readEnd.rawValue, UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                }
            } catch {
                throw .writing(error)
            }
            guard case .processed(let count) = read, count > 0 else {
                throw .writing(.wroteNothing)  // the pipe cannot run dry before `count`
            }
            filled += count
        }
        try write(bytes[...], to: file)
    }

    private func copy(
        from socket: TCPSocket,
        to file: FileDescriptor,
        limit: Int,
        timeout: Double
    ) throws(Failure)
        -> Int
    {
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.chunk) }
        let count: Int
        do {
            count = try buffer.withMutableBytes { bytes throws(IOFailure) in
                try socket.receive(
                    into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<min(limit, bytes.count)]),
                    timeout: timeout
                )
            }
        } catch {
            throw .receiving(error)
        }
        try write(buffer[..<count], to: file)
        return count
    }

    private func write(_ bytes: ArraySlice<UInt8>, to file: FileDescriptor) throws(Failure) {
        do {
            try bytes.withBytes { raw throws(IOFailure) in
                if let at = position {
                    try FileWriting.writeAll(file, raw, at: at)
                    position = at + Int64(raw.count)
                } else {
                    try FileWriting.writeAll(file, raw)
                }
            }
        } catch {
            throw .writing(error)
        }
    }
}
