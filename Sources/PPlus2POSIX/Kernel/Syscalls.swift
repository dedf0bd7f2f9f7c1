import CPPlus2Shims
import Glibc

/// The kernel's door: every Glibc call of the library goes through `Sys`, in
/// this folder and nowhere else (as swift-system's `Internals/Syscalls.swift`
/// and swift-nio's `System.swift`).
///
/// Here, once: `EINTR` is retried, `-1` becomes a thrown `IOFailure` that names
/// the call and carries its `Errno`, `EAGAIN` becomes `IOResult.wouldBlock`,
/// and a test's `SyscallMock` may answer in the kernel's place. No other file
/// reads `errno`.
enum Sys {
    /// Runs `body` (a call that returns -1 and sets `errno` on failure) through
    /// the door. `close` and `poll` pass `retryOnInterrupt: false`: a retried
    /// close may close a reused descriptor, and poll's caller recomputes its timeout.
    @inline(__always)
    static func call<T: FixedWidthInteger>(
        _ name: StaticString,
        fd: CInt? = nil,
        retryOnInterrupt: Bool = true,
        _ body: () -> T
    ) throws(IOFailure) -> T {
        try call(name, fd: fd, count: 0, retryOnInterrupt: retryOnInterrupt) { _ in body() }
    }

    /// The same for a call on a buffer of `count` bytes: `body` gets the count to
    /// pass, which a mock may shorten.
    @inline(__always)
    static func call<T: FixedWidthInteger>(
        _ name: StaticString,
        fd: CInt? = nil,
        count: Int,
        retryOnInterrupt: Bool = true,
        _ body: (Int) -> T
    ) throws(IOFailure) -> T {
        while true {
            let result: T
            #if ENABLE_MOCKING
            if let mock = SyscallMock.current,
                let answer = mock.answer(.init(name: name.description, descriptor: fd, count: count))
            {
                switch answer {
                case .result(let value): result = T(truncatingIfNeeded: value)
                case .failure(let code):
                    Glibc.errno = code.code
                    result = -1
                case .shortened(let limit): result = body(min(limit, count))
                }
            } else {
                result = body(count)
            }
            #else
            result = body(count)
            #endif
            guard result == -1 else { return result }
            let code = Errno(Glibc.errno)
            if code == .interrupted && retryOnInterrupt { continue }
            throw .system(call: name.description, errno: code)
        }
    }

    /// `call` for a non-blocking descriptor: `EAGAIN` is `.wouldBlock`, not an error.
    @inline(__always)
    static func nonBlocking<T: FixedWidthInteger>(
        _ name: StaticString,
        fd: CInt? = nil,
        count: Int = 0,
        _ body: (Int) -> T
    ) throws(IOFailure) -> IOResult<T> {
        do {
            return .processed(try call(name, fd: fd, count: count, body))
        } catch {
            if error.errno == .wouldBlock { return .wouldBlock }
            throw error
        }
    }
}

// MARK: Sockets

extension Sys {
    static func socket(_ domain: CInt, _ type: CInt) throws(IOFailure) -> CInt {
        try call("socket") { Glibc.socket(domain, type | CInt(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// `setsockopt` with a value of any type (`CInt`, `ip_mreqn`, `linger`...).
    static func setOption<Value: BitwiseCopyable>(
        _ fd: CInt,
        _ level: CInt,
        _ name: CInt,
        value: Value
    ) throws(IOFailure) {
        _ = try call("setsockopt") {
            withUnsafeBytes(of: value) { Glibc.setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) }
        }
    }

    static func setOption(_ fd: CInt, _ level: CInt, _ name: CInt, _ value: CInt) throws(IOFailure) {
        try setOption(fd, level, name, value: value)
    }

    /// The pending error of a socket (`SO_ERROR`): how a non-blocking connect ended.
    static func socketError(_ fd: CInt) throws(IOFailure) -> Errno? {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        _ = try call("getsockopt", fd: fd) { Glibc.getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value == 0 ? nil : Errno(value)
    }

    static func bind(_ fd: CInt, _ address: sockaddr_in) throws(IOFailure) {
        _ = try call("bind", fd: fd) { withSocketAddress(address) { Glibc.bind(fd, $0, $1) } }
    }

    static func listen(_ fd: CInt, backlog: CInt) throws(IOFailure) {
        _ = try call("listen", fd: fd) { Glibc.listen(fd, backlog) }
    }

    /// Accepts one connection as a non-blocking, close-on-exec descriptor.
    static func accept(_ fd: CInt) throws(IOFailure) -> IOResult<CInt> {
        try nonBlocking("accept", fd: fd) { _ in cpplus2_accept_nonblocking(fd) }
    }

    /// Starts a connect on a non-blocking socket: `.processed` if it completed
    /// at once, `.wouldBlock` if it goes on in the background (`EINPROGRESS`,
    /// or `EINTR`, which for connect means the same and must not be retried).
    static func connect(_ fd: CInt, _ address: sockaddr_in) throws(IOFailure) -> IOResult<Void> {
        do {
            _ = try call("connect", retryOnInterrupt: false) {
                withSocketAddress(address) { Glibc.connect(fd, $0, $1) }
            }
            return .processed(())
        } catch {
            if error.errno == .inProgress || error.errno == .interrupted { return .wouldBlock }
            throw error
        }
    }

    /// Dissolves a TCP connection at once (`connect` to `AF_UNSPEC`): with
    /// `SO_LINGER` zero the kernel sends a reset; the descriptor stays open.
    static func disconnect(_ fd: CInt) {
        var address = sockaddr()
        address.sa_family = sa_family_t(AF_UNSPEC)
        _ = try? call("connect") {
            Glibc.connect(fd, &address, socklen_t(MemoryLayout<sockaddr>.size))
        }
    }

    static func localAddress(_ fd: CInt) throws(IOFailure) -> sockaddr_in {
        try socketAddress("getsockname") { Glibc.getsockname(fd, $0, $1) }
    }

    static func remoteAddress(_ fd: CInt) throws(IOFailure) -> sockaddr_in {
        try socketAddress("getpeername") { Glibc.getpeername(fd, $0, $1) }
    }

    /// An IPv4 address that `body` (getsockname, getpeername) writes.
    private static func socketAddress(
        _ name: StaticString,
        _ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) throws(IOFailure) -> sockaddr_in {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try call(name) {
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &length) }
            }
        }
        return address
    }

    static func receive(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) throws(IOFailure) -> IOResult<Int> {
        try nonBlocking("recv", fd: fd, count: buffer.count) { Glibc.recv(fd, buffer.baseAddress, $0, 0) }
    }

    /// `send` without SIGPIPE.
    static func send(_ fd: CInt, _ buffer: UnsafeRawBufferPointer) throws(IOFailure) -> IOResult<Int> {
        try nonBlocking("send", fd: fd, count: buffer.count) {
            Glibc.send(fd, buffer.baseAddress, $0, CInt(MSG_NOSIGNAL))
        }
    }

    /// `recvfrom` with `MSG_TRUNC`: the datagram's whole length, even when it did not fit.
    static func receiveDatagram(
        _ fd: CInt,
        _ buffer: UnsafeMutableRawBufferPointer,
        from address: inout sockaddr_in
    ) throws(IOFailure) -> IOResult<Int> {
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return try nonBlocking("recvfrom", count: buffer.count) { count in
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.recvfrom(fd, buffer.baseAddress, count, CInt(MSG_TRUNC), $0, &length)
                }
            }
        }
    }

    static func sendDatagram(_ fd: CInt, _ buffer: UnsafeRawBufferPointer, to address: sockaddr_in) throws(IOFailure) {
        _ = try call("sendto") {
            withSocketAddress(address) {
                Glibc.sendto(fd, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL), $0, $1)
            }
        }
    }

    /// `sendfile` of at most `count` bytes from `offset`, which it advances.
    static func sendfile(
        _ socket: CInt,
        _ file: CInt,
        _ offset: inout off_t,
        _ count: Int
    ) throws(IOFailure)
        -> IOResult<Int>
    {
        try nonBlocking("sendfile", fd: socket, count: count) { Glibc.sendfile(socket, file, &offset, $0) }
    }

    /// `splice` between a descriptor and a pipe (`SPLICE_F_MOVE`, non-blocking on request).
    static func splice(_ from: CInt, _ to: CInt, _ count: Int, nonBlocking: Bool) throws(IOFailure) -> IOResult<Int> {
        try Sys.nonBlocking("splice", fd: from, count: count) {
            cpplus2_splice(from, to, UInt($0), nonBlocking ? 1 : 0)
        }
    }

    /// `splice` from a pipe into a file at `offset`, which advances by what moved.
    static func splice(_ from: CInt, _ to: CInt, _ count: Int, at offset: inout Int64) throws(IOFailure) -> Int {
        var position = offset
        let moved = try call("splice", fd: from, count: count) { cpplus2_splice_at(from, to, &position, UInt($0)) }
        offset = position
        return moved
    }

    /// Bytes written to a TCP socket and not yet acknowledged by the other end (`SIOCOUTQ`).
    static func unacknowledgedBytes(_ fd: CInt) -> Int {
        max(0, Int((try? call("ioctl", fd: fd) { cpplus2_unsent_bytes(fd) }) ?? 0))
    }

    static func shutdown(_ fd: CInt, _ how: CInt) {
        _ = try? call("shutdown", fd: fd) { Glibc.shutdown(fd, how) }
    }

    /// Waits on `fds`; nil when a signal interrupted the wait (the caller
    /// recomputes its timeout and waits again).
    static func poll(_ fds: UnsafeMutablePointer<pollfd>, _ count: Int, _ milliseconds: CInt) -> CInt? {
        do {
            return try call("poll", retryOnInterrupt: false) { Glibc.poll(fds, nfds_t(count), milliseconds) }
        } catch {
            return error.errno == .interrupted ? nil : -1
        }
    }

    static func pipeNonBlocking() throws(IOFailure) -> (read: CInt, write: CInt) {
        var fds: [CInt] = [-1, -1]
        _ = try call("pipe2") { fds.withUnsafeMutableBufferPointer { cpplus2_pipe_nonblocking($0.baseAddress!) } }
        return (fds[0], fds[1])
    }

    /// Asks for a pipe of `bytes` capacity; best effort.
    static func setPipeSize(_ fd: CInt, _ bytes: Int) {
        _ = try? call("fcntl", fd: fd) { cpplus2_set_pipe_size(fd, CInt(bytes)) }
    }

    static func fileStatusFlags(_ fd: CInt) throws(IOFailure) -> CInt {
        try call("fcntl", fd: fd) { fcntl(fd, F_GETFL) }
    }

    static func setFileStatusFlags(_ fd: CInt, _ flags: CInt) throws(IOFailure) {
        _ = try call("fcntl", fd: fd) { fcntl(fd, F_SETFL, flags) }
    }

    static func close(_ fd: CInt) {
        _ = try? call("close", fd: fd, retryOnInterrupt: false) { Glibc.close(fd) }
    }

    private static func withSocketAddress<T>(
        _ address: sockaddr_in,
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> T
    ) -> T {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}

extension sockaddr_in {
    /// An IPv4 socket address from a host-order address and port.
    init(address: UInt32, port: UInt16) {
        self.init()
        sin_family = sa_family_t(AF_INET)
        sin_port = port.bigEndian
        sin_addr = in_addr(s_addr: address.bigEndian)
    }

    var hostAddress: UInt32 { UInt32(bigEndian: sin_addr.s_addr) }
    var hostPort: UInt16 { UInt16(bigEndian: sin_port) }
}

/// `SOCK_STREAM` as the `CInt` that `socket(2)` takes (Glibc imports it as an enum).
let socketStream = CInt(SOCK_STREAM.rawValue)
