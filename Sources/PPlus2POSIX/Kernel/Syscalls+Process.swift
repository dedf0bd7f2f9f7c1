import CPPlus2Shims
import Glibc

// MARK: The process, its signals, streams, clocks and names

extension Sys {
    static func ignoreSignal(_ number: CInt) {
        _ = Glibc.signal(number, SIG_IGN)
    }

    static func defaultSignal(_ number: CInt) {
        _ = Glibc.signal(number, SIG_DFL)
    }

    static func blockSignals(_ numbers: [CInt]) {
        var set = signalSet(numbers)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for one of `numbers` (blocked in every thread) and returns it.
    static func waitForSignal(_ numbers: [CInt]) -> CInt {
        var set = signalSet(numbers)
        var received: CInt = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    private static func signalSet(_ numbers: [CInt]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in numbers { sigaddset(&set, number) }
        return set
    }

    /// Raises the soft limit of open descriptors to the hard limit.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Fixes glibc's threshold above which an allocation is its own mapping
    /// (`mallopt(M_MMAP_THRESHOLD)`, which also stops glibc raising it).
    static func setMallocMapThreshold(_ bytes: Int) {
        _ = cpplus2_malloc_map_threshold(CInt(bytes))
    }

    /// Whether a process with this pid exists (signal 0 probes without sending).
    static func processExists(_ pid: Int32) -> Bool {
        do {
            _ = try call("kill") { kill(pid, 0) }
            return true
        } catch {
            return error.errno == .notPermitted
        }
    }

    static var processID: Int32 { getpid() }

    static func pause() {
        _ = Glibc.pause()
    }

    static func exit(_ status: CInt) -> Never {
        Glibc.exit(status)
    }

    static func isTerminal(_ fd: CInt) -> Bool {
        isatty(fd) == 1
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Seconds on `clock` (`CLOCK_MONOTONIC`, `CLOCK_REALTIME`).
    static func clock(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, 255) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

// MARK: Names and interfaces

extension Sys {
    /// The IPv4 addresses `getaddrinfo` gives for `host`, in its order.
    static func resolveIPv4(_ host: String) -> [sockaddr_in] {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = socketStream
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var result: [sockaddr_in] = []
        var node = list
        while let current = node {
            if current.pointee.ai_family == AF_INET, let address = current.pointee.ai_addr {
                result.append(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee })
            }
            node = current.pointee.ai_next
        }
        return result
    }

    /// One IPv4 address of one interface, as `getifaddrs` lists them.
    struct InterfaceAddress {
        let name: String
        let index: UInt32
        let address: sockaddr_in
        let flags: Int32
    }

    /// Every IPv4 address of every interface, in the kernel's order.
    static func interfaceAddresses() -> [InterfaceAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var result: [InterfaceAddress] = []
        var node = list
        while let current = node {
            let entry = current.pointee
            if let address = entry.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) {
                result.append(
                    InterfaceAddress(
                        name: String(cString: entry.ifa_name),
                        index: if_nametoindex(entry.ifa_name),
                        address: address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee },
                        flags: Int32(bitPattern: entry.ifa_flags)
                    )
                )
            }
            node = entry.ifa_next
        }
        return result
    }
}

// MARK: The terminal

extension Sys {
    static func terminalRaw(_ fd: CInt) -> Bool {
        (try? call("tcsetattr", fd: fd) { cpplus2_terminal_raw(fd) }) != nil
    }

    static func terminalRestore() {
        cpplus2_terminal_restore()
    }

    static func terminalWidth(_ fd: CInt) -> Int {
        Int(cpplus2_terminal_width(fd))
    }
}
