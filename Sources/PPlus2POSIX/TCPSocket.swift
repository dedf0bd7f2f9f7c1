import Glibc

/// A TCP socket over IPv4, non-blocking underneath, with blocking-style calls
/// that take timeouts: every wait is a `poll` with a deadline, so no call can
/// hang forever on a silent or slow peer.
///
/// Addresses are host-order `UInt32` values (`0x7F00_0001` is 127.0.0.1): this
/// module knows nothing of the protocol's types.
public struct TCPSocket: Sendable {
    public let descriptor: FileDescriptor

    public init(_ descriptor: FileDescriptor) {
        self.descriptor = descriptor
    }

    var fd: CInt { descriptor.rawValue }

    // MARK: Listening

    /// A non-blocking listening socket bound to `address:port` (`port` 0: the
    /// kernel picks one). Throws `EADDRINUSE` when the port is taken. The
    /// backlog is deep (the kernel caps it at `net.core.somaxconn`): a flood
    /// that outruns the loop for a moment must not push an honest caller into
    /// SYN retransmissions, seconds long.
    public static func listen(address: UInt32, port: UInt16, backlog: CInt = 4096) throws(IOFailure) -> TCPSocket {
        let socket = TCPSocket(FileDescriptor(adopting: try Sys.socket(AF_INET, socketStream)))
        try Sys.setOption(socket.fd, SOL_SOCKET, SO_REUSEADDR, 1)
        try socket.descriptor.setNonBlocking(true)
        try Sys.bind(socket.fd, sockaddr_in(address: address, port: port))
        try Sys.listen(socket.fd, backlog: backlog)
        return socket
    }

    /// Takes one waiting connection as a non-blocking socket; nil if none waits.
    public func accept() throws(IOFailure) -> TCPSocket? {
        do {
            guard case .processed(let raw) = try Sys.accept(fd) else { return nil }
            return TCPSocket(FileDescriptor(adopting: raw))
        } catch {
            // A connection reset before we took it: nothing is waiting any more.
            if error.errno == .connectionAborted || error.errno == .protocolError { return nil }
            throw error
        }
    }

    /// The local address and port the socket is bound to.
    public func localAddress() throws(IOFailure) -> (address: UInt32, port: UInt16) {
        let address = try Sys.localAddress(fd)
        return (address.hostAddress, address.hostPort)
    }

    /// The address of the other end (host order); nil if it is gone.
    public func remoteAddress() -> UInt32? {
        (try? Sys.remoteAddress(fd))?.hostAddress
    }

    // MARK: Connecting

    /// Starts connecting to `address:port` (from `source` if given) without
    /// waiting: the socket becomes writable once connected or failed, and
    /// `connectionError` tells which. For event loops that connect to many
    /// peers at once.
    public static func startConnect(
        address: UInt32,
        port: UInt16,
        from source: UInt32? = nil
    ) throws(IOFailure) -> TCPSocket {
        let socket = TCPSocket(FileDescriptor(adopting: try Sys.socket(AF_INET, socketStream)))
        do {
            try socket.descriptor.setNonBlocking(true)
            if let source { try Sys.bind(socket.fd, sockaddr_in(address: source, port: 0)) }
            _ = try Sys.connect(socket.fd, sockaddr_in(address: address, port: port))
        } catch {
            socket.descriptor.close()
            throw error
        }
        return socket
    }

    /// Why a connection started by `startConnect` failed, once it is writable; nil if it is connected.
    public func connectionError() -> IOFailure? {
        do {
            guard let error = try Sys.socketError(fd) else { return nil }
            return .system(call: "connect", errno: error)
        } catch {
            return error
        }
    }

    /// Connects to `address:port`, giving up after `timeout` seconds; from
    /// the local address `source` if given, with a receive buffer of
    /// `receiveBuffer` bytes and segments of at most `maxSegment` bytes if
    /// given (set before connecting, so the other side sees that small a
    /// window and that small a segment from the start: a LAN's figures on
    /// loopback, whose 64 KiB segments let buffers swallow whole answers).
    public static func connect(
        address: UInt32,
        port: UInt16,
        timeout: Double,
        from source: UInt32? = nil,
        receiveBuffer: Int? = nil,
        maxSegment: Int? = nil
    ) throws(IOFailure) -> TCPSocket {
        let socket = TCPSocket(FileDescriptor(adopting: try Sys.socket(AF_INET, socketStream)))
        try socket.descriptor.setNonBlocking(true)
        if let receiveBuffer { try Sys.setOption(socket.fd, SOL_SOCKET, SO_RCVBUF, CInt(receiveBuffer)) }
        if let maxSegment { try Sys.setOption(socket.fd, CInt(IPPROTO_TCP), TCP_MAXSEG, CInt(maxSegment)) }
        if let source { try Sys.bind(socket.fd, sockaddr_in(address: source, port: 0)) }
        if case .processed = try Sys.connect(socket.fd, sockaddr_in(address: address, port: port)) { return socket }
        guard socket.descriptor.wait(for: Int16(POLLOUT), timeout: timeout) else { throw .timedOut(.connecting) }
        if let error = try Sys.socketError(socket.fd) { throw .system(call: "connect", errno: error) }
        return socket
    }

    // MARK: Reading and writing

    /// Reads what has arrived, up to `buffer.count` bytes, waiting at most
    /// `timeout` seconds for the first byte. Returns 0 at end of stream.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeout: Double) throws(IOFailure) -> Int {
        while true {
            if case .processed(let count) = try Sys.receive(fd, buffer) { return count }
            guard descriptor.wait(for: Int16(POLLIN), timeout: timeout) else { throw .timedOut(.reading) }
        }
    }

    /// `receive(into:timeout:)` into the start of an array.
    public func receive(into buffer: inout [UInt8], timeout: Double) throws(IOFailure) -> Int {
        try buffer.withMutableBytes { bytes throws(IOFailure) in try receive(into: bytes, timeout: timeout) }
    }

    /// Reads what has arrived without waiting: nil if nothing is there yet, 0 at end of stream.
    public func receiveNow(into buffer: UnsafeMutableRawBufferPointer) throws(IOFailure) -> Int? {
        guard case .processed(let count) = try Sys.receive(fd, buffer) else { return nil }
        return count
    }

    /// Sends every byte, waiting at most `idleTimeout` seconds each time the
    /// other end stops taking data, and giving up at the monotonic `deadline`.
    /// Never raises SIGPIPE.
    public func send(
        _ bytes: UnsafeRawBufferPointer,
        idleTimeout: Double,
        deadline: Double = .infinity
    ) throws(IOFailure) {
        var offset = 0
        while offset < bytes.count {
            if case .processed(let count) = try Sys.send(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
                offset += count
                continue
            }
            let now = MonotonicClock.now
            let idleAt = min(now + idleTimeout, deadline)
            guard now < idleAt, descriptor.wait(for: Int16(POLLOUT), timeout: idleAt - now) else {
                throw .timedOut(.writing)
            }
        }
    }

    public func send(_ bytes: [UInt8], idleTimeout: Double, deadline: Double = .infinity) throws(IOFailure) {
        try bytes.withBytes { buffer throws(IOFailure) in try send(buffer, idleTimeout: idleTimeout, deadline: deadline)
        }
    }

    /// Sends what the socket takes now, without waiting.
    public func sendNow(_ bytes: UnsafeRawBufferPointer) throws(IOFailure) -> IOResult<Int> {
        try Sys.send(fd, bytes)
    }

    /// `sendfile(2)` of at most `count` bytes of `file` from `offset` (which
    /// advances), without waiting: `.processed(0)` if the file ended there.
    public func sendFileNow(_ file: FileDescriptor, offset: inout Int64, count: Int) throws(IOFailure) -> IOResult<Int>
    {
        var position = off_t(offset)
        defer { offset = Int64(position) }
        return try Sys.sendfile(fd, file.rawValue, &position, min(count, 0x7fff_f000))
    }

    /// Bytes written to the socket that the other end has not acknowledged yet.
    public var unacknowledgedBytes: Int64 { Int64(Sys.unacknowledgedBytes(fd)) }

    /// Ends our direction of the stream (the other end reads end of stream).
    public func shutdownWrite() {
        Sys.shutdown(fd, CInt(SHUT_WR))
    }

    /// Ends the connection now with a TCP reset, from any thread, without
    /// closing the descriptor (its owner still holds it): a thread blocked on it
    /// wakes and its next call fails. The other end reads `ECONNRESET`, never a
    /// clean end of stream, so it cannot keep a cut transfer as a whole one.
    public func reset() {
        abortOnClose()
        Sys.disconnect(fd)
    }

    /// Makes the close send a reset instead of a clean end of stream, so that
    /// the other end cannot mistake a cut-off transfer for a complete one.
    public func abortOnClose() {
        try? Sys.setOption(fd, SOL_SOCKET, SO_LINGER, value: Glibc.linger(l_onoff: 1, l_linger: 0))
    }
}

/// A pipe with both ends non-blocking: the self-pipe that lets another thread
/// wake a thread blocked in `poll` (`wake`, `drain`), and the buffer that
/// `splice(2)` moves downloads through.
public struct NonBlockingPipe: Sendable {
    public let readEnd: FileDescriptor
    public let writeEnd: FileDescriptor

    public init() throws(IOFailure) {
        let (readEnd, writeEnd) = try Sys.pipeNonBlocking()
        self.readEnd = FileDescriptor(adopting: readEnd)
        self.writeEnd = FileDescriptor(adopting: writeEnd)
    }

    /// Makes the read end readable (a full pipe is already readable: nothing is lost).
    public func wake() {
        let byte: UInt8 = 1
        _ = withUnsafeBytes(of: byte) { try? Sys.write(writeEnd.rawValue, $0) }
    }

    /// Empties the read end.
    public func drain() {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while case .processed(let count)? = withUnsafeMutableBytes(
            of: &buffer,
            { try? Sys.readNow(readEnd.rawValue, $0) }
        ),
            count > 0
        {}
    }
}

/// Waits on many descriptors at once (`poll(2)`): the server's event loop.
/// Add descriptors in order, wait, then ask by position which are ready.
public struct PollSet {
    private var entries: [pollfd] = []

    public init() {}

    public mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
    }

    /// Adds `descriptor`, to be reported when it has data, an end of stream,
    /// a waiting connection or an error.
    public mutating func addReadable(_ descriptor: FileDescriptor) {
        entries.append(pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0))
    }

    /// Waits until a descriptor is ready or `timeout` seconds pass.
    public mutating func wait(timeout: Double) {
        let milliseconds = MonotonicClock.milliseconds(timeout)
        // An interrupted wait returns early, like a timeout: the loop comes round again.
        _ = entries.withUnsafeMutableBufferPointer { Sys.poll($0.baseAddress!, $0.count, milliseconds) }
    }

    /// Whether the descriptor added at `position` is ready.
    public func isReady(_ position: Int) -> Bool {
        entries[position].revents != 0
    }
}
