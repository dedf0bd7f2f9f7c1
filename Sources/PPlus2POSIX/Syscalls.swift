import CPPlus2Shims
import Glibc

// Every call into the kernel goes through this file: the retry on EINTR lives
// here once, and the rest of the module never touches `errno` directly.

/// Runs a system call until it is not interrupted by a signal (EINTR).
/// `close` must never go through here: a retried close may close a reused descriptor.
@inline(__always)
func retryingInterrupts<T: FixedWidthInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

/// Runs a system call, retrying EINTR, and turns -1 into a thrown `IOFailure`.
@inline(__always)
func checked<T: FixedWidthInteger>(_ name: String, _ call: () -> T) throws(IOFailure) -> T {
    let result = retryingInterrupts(call)
    if result == -1 { throw IOFailure.lastError(name) }
    return result
}

enum Sys {
    static func socket(_ domain: CInt, _ type: CInt) throws(IOFailure) -> CInt {
        try checked("socket") { Glibc.socket(domain, type | CInt(SOCK_CLOEXEC.rawValue), 0) }
    }

    static func setOption(_ fd: CInt, _ level: CInt, _ name: CInt, _ value: CInt) throws(IOFailure) {
        try setOption(fd, level, name, value: value)
    }

    static func bind(_ fd: CInt, _ address: sockaddr_in) throws(IOFailure) {
        var address = address
        _ = try checked("bind") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    static func listen(_ fd: CInt, backlog: CInt) throws(IOFailure) {
        _ = try checked("listen") { Glibc.listen(fd, backlog) }
    }

    /// Accepts one connection as a non-blocking descriptor; nil when none is waiting.
    static func acceptNonBlocking(_ fd: CInt) throws(IOFailure) -> CInt? {
        let result = retryingInterrupts { cpplus2_accept_nonblocking(fd) }
        if result >= 0 { return result }
        switch errno {
        // No connection waiting, or one that was reset before we took it.
        case EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO: return nil
        default: throw IOFailure.lastError("accept")
        }
    }

    /// Starts a connect on a non-blocking socket; true if it completed at once.
    static func connectNonBlocking(_ fd: CInt, _ address: sockaddr_in) throws(IOFailure) -> Bool {
        var address = address
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return true }
        // EINTR on connect means the connection goes on in the background, like EINPROGRESS.
        if errno == EINPROGRESS || errno == EINTR { return false }
        throw IOFailure.lastError("connect")
    }

    static func socketError(_ fd: CInt) -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        if Glibc.getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == -1 { return errno }
        return value
    }

    static func localAddress(_ fd: CInt) throws(IOFailure) -> sockaddr_in {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try checked("getsockname") {
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd, $0, &length) }
            }
        }
        return address
    }

    /// `recv`; -1 with EAGAIN means nothing to read yet.
    static func receive(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        retryingInterrupts { Glibc.recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// `send` without SIGPIPE; -1 with EAGAIN means the socket buffer is full.
    static func send(_ fd: CInt, _ buffer: UnsafeRawBufferPointer) -> Int {
        retryingInterrupts { Glibc.send(fd, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL)) }
    }

    /// `setsockopt` with a value of any type (`ip_mreqn`, `in_addr`...).
    static func setOption<Value: BitwiseCopyable>(
        _ fd: CInt,
        _ level: CInt,
        _ name: CInt,
        value: Value
    ) throws(IOFailure) {
        _ = try checked("setsockopt") {
            withUnsafeBytes(of: value) { Glibc.setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) }
        }
    }

    /// `recvfrom` with MSG_TRUNC: returns the datagram's whole length even when
    /// it did not fit; -1 with EAGAIN means nothing is waiting.
    static func receiveDatagram(
        _ fd: CInt,
        _ buffer: UnsafeMutableRawBufferPointer,
        from address: inout sockaddr_in
    ) -> Int {
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return retryingInterrupts {
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, CInt(MSG_TRUNC), $0, &length)
                }
            }
        }
    }

    static func sendDatagram(_ fd: CInt, _ buffer: UnsafeRawBufferPointer, to address: sockaddr_in) -> Int {
        var address = address
        return retryingInterrupts {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.sendto(
                        fd,
                        buffer.baseAddress,
                        buffer.count,
                        CInt(MSG_NOSIGNAL),
                        $0,
                        socklen_t(MemoryLayout<sockaddr_in>.size)
                    )
                }
            }
        }
    }

    static func sendfile(_ socket: CInt, _ file: CInt, _ offset: inout off_t, _ count: Int) -> Int {
        retryingInterrupts { Glibc.sendfile(socket, file, &offset, count) }
    }

    static func read(_ fd: CInt, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        retryingInterrupts { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    static func write(_ fd: CInt, _ buffer: UnsafeRawBufferPointer) -> Int {
        retryingInterrupts { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    static func poll(_ fds: UnsafeMutablePointer<pollfd>, _ count: Int, _ timeoutMilliseconds: CInt) -> CInt {
        // Not retried here: after EINTR the caller recomputes its timeout.
        Glibc.poll(fds, nfds_t(count), timeoutMilliseconds)
    }

    static func shutdown(_ fd: CInt, _ how: CInt) {
        _ = Glibc.shutdown(fd, how)
    }

    static func close(_ fd: CInt) {
        _ = Glibc.close(fd)  // never retried: see `retryingInterrupts`
    }

    static func openAt(_ dir: CInt, _ name: String, _ flags: CInt, _ mode: mode_t = 0) throws(IOFailure) -> CInt {
        try checked("open") { Glibc.openat(dir, name, flags | O_CLOEXEC, mode) }
    }

    static func fstat(_ fd: CInt) throws(IOFailure) -> stat {
        var info = stat()
        _ = try checked("fstat") { Glibc.fstat(fd, &info) }
        return info
    }

    /// `fstatat` without following a final symbolic link.
    static func lstatAt(_ dir: CInt, _ name: UnsafePointer<CChar>) -> stat? {
        var info = stat()
        return retryingInterrupts { Glibc.fstatat(dir, name, &info, AT_SYMLINK_NOFOLLOW) } == 0 ? info : nil
    }

    static func renameNoReplace(_ dir: CInt, _ from: String, _ to: String) -> CInt {
        retryingInterrupts { cpplus2_rename_noreplace(dir, from, to) }
    }

    static func linkAt(_ dir: CInt, _ from: String, _ to: String) -> CInt {
        retryingInterrupts { Glibc.linkat(dir, from, dir, to, 0) }
    }

    static func unlinkAt(_ dir: CInt, _ name: String) -> CInt {
        retryingInterrupts { Glibc.unlinkat(dir, name, 0) }
    }

    static func fsync(_ fd: CInt) throws(IOFailure) {
        _ = try checked("fsync") { Glibc.fsync(fd) }
    }

    static func pipeNonBlocking() throws(IOFailure) -> (read: CInt, write: CInt) {
        var fds: [CInt] = [-1, -1]
        _ = try checked("pipe") { fds.withUnsafeMutableBufferPointer { cpplus2_pipe_nonblocking($0.baseAddress!) } }
        return (fds[0], fds[1])
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
