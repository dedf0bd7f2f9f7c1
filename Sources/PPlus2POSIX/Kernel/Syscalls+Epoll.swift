import CPPlus2Shims
import Glibc

extension Sys {
    static func epollCreate() throws(IOFailure) -> CInt {
        try call("epoll_create1") { cpplus2_epoll_create() }
    }

    /// `operation`: 0 add, 1 modify, 2 delete; `events`: bit 0 readable, bit 1 writable.
    static func epollControl(
        _ epfd: CInt,
        _ operation: CInt,
        _ fd: CInt,
        events: UInt32,
        token: UInt64
    ) throws(IOFailure) {
        _ = try call("epoll_ctl", fd: fd) { cpplus2_epoll_control(epfd, operation, fd, events, token) }
    }

    /// Waits; nil when interrupted (the caller's loop comes round again).
    static func epollWait(
        _ epfd: CInt,
        _ tokens: UnsafeMutablePointer<UInt64>,
        _ events: UnsafeMutablePointer<UInt32>,
        _ max: Int,
        _ milliseconds: CInt
    ) -> Int {
        let count = try? call("epoll_wait", fd: epfd, retryOnInterrupt: false) {
            cpplus2_epoll_wait(epfd, tokens, events, CInt(max), milliseconds)
        }
        return Int(count ?? 0)
    }

    /// The process's limit on open descriptors (`RLIMIT_NOFILE`, soft).
    static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur > UInt(1 << 20) ? 1 << 20 : Int(limit.rlim_cur)
    }
}
