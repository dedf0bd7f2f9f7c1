// swift-tools-version: 6.0
// pplus2: a peer of the P+2 file-search protocol. No package dependencies:
// Foundation-free library targets over Glibc, Dispatch-free threads we own.
import PackageDescription

let package = Package(
    name: "pplus2",
    products: [
        .executable(name: "pplus2", targets: ["pplus2"])
    ],
    targets: [
        // C where Swift cannot reach or is slower: GNU calls Glibc's module does not export
        // (renameat2, accept4, pipe2, splice, sync_file_range, pthread names), socket and pipe
        // ioctls and fcntls, mallopt, the terminal's raw mode and its restore on a crash, the
        // SIMD substring search (find.c) and the SHA-NI block function (sha256.c).
        .target(name: "CPPlus2Shims"),
        // Pure protocol logic: identities, line framing, name rules, matching, peer-table rules,
        // command-line and console parsing, the DNS codec and the mDNS state machines of LAN
        // discovery. No syscalls, no threads: time is passed in as a value.
        .target(name: "PPlus2Core"),
        // The only module that calls the kernel: descriptors, sockets, poll, files, threads, signals.
        // SyscallMock, the scripted kernel of its tests, exists in debug builds only.
        .target(
            name: "PPlus2POSIX",
            dependencies: ["CPPlus2Shims"],
            swiftSettings: [.define("ENABLE_MOCKING", .when(configuration: .debug))]
        ),
        // The peer: three services, peer list, shared folder, gossip, search and download, console.
        .target(name: "PPlus2Node", dependencies: ["PPlus2Core", "PPlus2POSIX"]),
        // main.swift: arguments to a configuration, start the peer, exit code.
        .executableTarget(name: "pplus2", dependencies: ["PPlus2Core", "PPlus2POSIX", "PPlus2Node"]),
        // sha256sum with pplus2's own SHA-256 (the benchmark times it against OpenSSL and coreutils).
        .executableTarget(name: "pplus2-sha256", dependencies: ["PPlus2Core", "PPlus2POSIX"]),
        // libFuzzer entry for the network parsers (scripts/fuzz.sh); a replay tool in normal builds.
        .executableTarget(name: "pplus2-fuzz", dependencies: ["PPlus2Core"]),

        // Helpers shared by the test targets: temporary folders, raw wire requests, waiting.
        .target(
            name: "PPlus2TestSupport",
            dependencies: ["PPlus2Core", "PPlus2POSIX"],
            path: "Tests/PPlus2TestSupport"
        ),
        .testTarget(name: "PPlus2CoreTests", dependencies: ["PPlus2Core"]),
        // The kernel's door under a scripted kernel (SyscallMock): fallbacks, EINTR, EAGAIN, short I/O.
        .testTarget(name: "PPlus2POSIXTests", dependencies: ["PPlus2Core", "PPlus2POSIX", "PPlus2TestSupport"]),
        .testTarget(name: "PPlus2NodeTests", dependencies: ["PPlus2Node", "PPlus2POSIX", "PPlus2TestSupport"]),
        .testTarget(
            name: "PPlus2EndToEndTests",
            dependencies: ["pplus2", "PPlus2Core", "PPlus2POSIX", "PPlus2TestSupport"]
        ),
    ]
)
