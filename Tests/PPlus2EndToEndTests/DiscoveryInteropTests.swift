import Foundation
import PPlus2TestSupport
import Testing

/// LAN discovery against two mDNS implementations we did not write:
/// python-zeroconf (PyPI) and avahi (Debian), on hosts of their own.
extension DiscoveryTests {
    // MARK: Against python-zeroconf

    static let zeroconfBrowse = """
        import sys, time
        from zeroconf import Zeroconf, ServiceBrowser, ServiceListener, IPVersion
        zc = Zeroconf(ip_version=IPVersion.V4Only)
        names = set()
        class Listener(ServiceListener):
            def add_service(self, zc, type_, name): names.add(name)
            def update_service(self, zc, type_, name): names.add(name)
            def remove_service(self, zc, type_, name): pass
        ServiceBrowser(zc, "_pplus2._tcp.local.", Listener())
        want, deadline, seen = int(sys.argv[1]), time.time() + float(sys.argv[2]), set()
        while time.time() < deadline and len(seen) < want:
            for name in sorted(names - seen):
                info = zc.get_service_info("_pplus2._tcp.local.", name, timeout=1000)
                if info and info.parsed_addresses():
                    seen.add(name)
                    version = (info.properties or {}).get(b"v") or b""
                    print("%s %s:%d v=%s" % (name, info.parsed_addresses()[0], info.port, version.decode()), flush=True)
            time.sleep(0.1)
        zc.close()
        """

    static let zeroconfPublish = """
        import socket, sys
        from zeroconf import Zeroconf, ServiceInfo, IPVersion
        zc = Zeroconf(ip_version=IPVersion.V4Only)
        info = ServiceInfo("_pplus2._tcp.local.", sys.argv[1] + "._pplus2._tcp.local.",
                           addresses=[socket.inet_aton(sys.argv[2])], port=int(sys.argv[3]),
                           properties={"v": "1"}, server="zeroconf-test-host.local.")
        zc.register_service(info)
        print("published", flush=True)
        try:
            sys.stdin.read()
        finally:
            zc.unregister_service(info)
            zc.close()
        """

    /// zeroconf publishing an instance for a plain pplus2 on port 6000 of host A;
    /// it holds port 5353 first, so our discovering peer there must share it.
    func startZeroconfPublisher(_ network: TestNetwork) throws -> PeerProcess {
        let publisher = try PeerProcess(
            command: network.launcher(0) + [
                "/usr/bin/env", "python3", "-c", Self.zeroconfPublish, "zeroconf peer", "198.18.0.1", "6000",
            ]
        )
        #expect(publisher.waitForStdout(containing: "published", timeout: 15) != nil, "\(publisher.stderrText)")
        return publisher
    }

    @Test func interoperatesWithPythonZeroconf() throws {
        do {
            try runCommand("/usr/bin/env", ["python3", "-c", "import zeroconf"])
        } catch {
            try Test.cancel("skipped: python3 -m pip install zeroconf (.ci/run does) to run this test")
        }
        let network = try TestNetwork()
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let publisher = try startZeroconfPublisher(network)
        defer {
            publisher.closeInput()
            if publisher.waitForExit(timeout: 5) == nil { publisher.kill() }
        }
        let plain = try PeerProcess.startPeer(
            withPortOptions: ["--port", "6000", "--dir", try temporary.folder("plain"), "--no-console"],
            launcher: network.launcher(0)
        ).0
        defer { _ = plain.stop() }
        let peerA = try startPeer(network, host: 0, ["--dir", try temporary.folder("a"), "--no-console", "--discover"])
        defer { _ = peerA.stop() }
        let peerB = try startPeer(network, host: 1, ["--dir", try temporary.folder("b"), "--discover"])
        defer { _ = peerB.stop() }
        try expectZeroconfResolvesOurPeers(network)
        expectOurPeersDiscover("zeroconf peer", peerB: peerB)
        var listOfA = ""
        #expect(
            waitUntil(timeout: 10) {
                listOfA = (try? network.probe(host: 0, port: 5000, line: "")) ?? ""
                return listOfA.contains("198.18.0.1:6000\n")
            },
            "A lists \(listOfA.debugDescription)"
        )
    }

    /// zeroconf on host B sees and resolves both our peers (and its own kind).
    func expectZeroconfResolvesOurPeers(_ network: TestNetwork) throws {
        let browser = try PeerProcess(
            command: network.launcher(1) + ["/usr/bin/env", "python3", "-c", Self.zeroconfBrowse, "3", "20"]
        )
        defer { browser.kill() }
        _ = browser.waitForExit(timeout: 25)
        let seen = browser.stdoutLines
        #expect(
            seen.contains { $0.hasSuffix("._pplus2._tcp.local. 198.18.0.1:5000 v=1") },
            "\(seen) \(browser.stderrText)"
        )
        #expect(seen.contains { $0.hasSuffix("._pplus2._tcp.local. 198.18.0.2:5000 v=1") }, "\(seen)")
        #expect(seen.contains("zeroconf peer._pplus2._tcp.local. 198.18.0.1:6000 v=1"), "\(seen)")
    }

    /// B, across the link, discovers the instance the other implementation
    /// publishes for 198.18.0.1:6000.
    func expectOurPeersDiscover(_ instance: String, peerB: PeerProcess) {
        let rows = peersTable(of: peerB, timeout: 10) { $0.contains("198.18.0.1:6000") }
        #expect(
            rows.contains { $0.contains("198.18.0.1:6000") && $0.contains("discovered as \"\(instance)\"") },
            "\(rows)"
        )
    }

    // MARK: Against avahi

    /// A system bus of the test's own: avahi's tools talk to its daemon over D-Bus.
    static let busConfiguration = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>system</type>
          <listen>unix:path=BUS</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/><allow own="*"/>
            <allow send_type="method_call"/><allow send_type="signal"/>
            <allow send_type="method_return"/><allow send_type="error"/>
            <allow receive_type="method_call"/><allow receive_type="signal"/>
            <allow receive_type="method_return"/><allow receive_type="error"/>
          </policy>
        </busconfig>
        """

    static let avahiConfiguration = """
        [server]
        use-ipv4=yes
        use-ipv6=no
        allow-interfaces=veth0
        [publish]
        publish-workstation=no
        publish-hinfo=no
        """

    /// The tools, as `.ci/run` installs them from Debian.
    static let avahiTools = [
        "/usr/sbin/avahi-daemon", "/usr/bin/avahi-browse", "/usr/bin/avahi-publish",
        "/usr/bin/dbus-daemon",
    ]

    /// A D-Bus system bus and avahi-daemon of the test's own on host A, and
    /// avahi-publish announcing an instance for port 6000. Stopped in reverse.
    func startAvahi(_ network: TestNetwork, in setup: String) throws -> (processes: [PeerProcess], onBus: [String]) {
        let bus = setup + "/bus"
        try writeFile(setup + "/bus.conf", Array(Self.busConfiguration.replacingOccurrences(of: "BUS", with: bus).utf8))
        try writeFile(setup + "/avahi.conf", Array(Self.avahiConfiguration.utf8))
        let dbus = try PeerProcess(command: ["/usr/bin/dbus-daemon", "--nofork", "--config-file=\(setup)/bus.conf"])
        #expect(waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: bus) }, "\(dbus.stderrText)")
        let onBus = ["/usr/bin/env", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + bus]

        // avahi-daemon holds port 5353 first. Its pid file goes to a /run of
        // its own (`ip netns exec` gives it a private mount namespace). A shell
        // stays its parent: avahi-daemon closes every descriptor it inherits,
        // and Foundation's Process takes that for the child's exit and blocks
        // in waitpid. The shell passes SIGTERM on, so the daemon says goodbye.
        let daemon = try PeerProcess(
            command: network.launcher(0) + onBus + [
                "/bin/sh", "-c",
                """
                mount -t tmpfs tmpfs /run && mkdir /run/avahi-daemon || exit 1
                /usr/sbin/avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$0" & daemon=$!
                trap 'kill $daemon; wait $daemon; exit 0' TERM
                wait $daemon
                """,
                setup + "/avahi.conf",
            ]
        )
        #expect(daemon.waitForStderr(containing: "Server startup complete", timeout: 15) != nil, "\(daemon.stderrText)")
        let publisher = try PeerProcess(
            command: network.launcher(0) + onBus + [
                "/usr/bin/avahi-publish", "-s", "avahi peer", "_pplus2._tcp", "6000", "v=1",
            ]
        )
        #expect(publisher.waitForStderr(containing: "Established", timeout: 10) != nil, "\(publisher.stderrText)")
        return ([dbus, daemon, publisher], onBus)
    }

    @Test func interoperatesWithAvahi() throws {
        guard Self.avahiTools.allSatisfy(FileManager.default.isExecutableFile(atPath:)) else {
            try Test.cancel("skipped: apt-get install avahi-daemon avahi-utils dbus (.ci/run does) to run this test")
        }
        let network = try TestNetwork()
        defer { network.remove() }
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let avahi = try startAvahi(network, in: try temporary.folder("avahi"))
        defer {
            for process in avahi.processes.reversed() where process.stop(timeout: 5) == nil { process.kill() }
        }
        // Our peers: A shares 5353 with avahi-daemon, B is across the link.
        let peerA = try startPeer(
            network,
            host: 0,
            ["--dir", try temporary.folder("a"), "--no-console", "--discover", "--verbose"]
        )
        defer { _ = peerA.stop() }
        let peerB = try startPeer(network, host: 1, ["--dir", try temporary.folder("b"), "--discover"])
        defer { _ = peerB.stop() }

        // avahi resolves both our peers: name, host, address, port, TXT.
        let browser = try PeerProcess(
            command: network.launcher(0) + avahi.onBus + ["/usr/bin/avahi-browse", "-r", "-p", "_pplus2._tcp"]
        )
        defer { browser.kill() }
        let resolvedA = browser.waitForStdout(containing: ";198.18.0.1;5000;\"v=1\"", timeout: 15)
        #expect(resolvedA?.contains(";pplus2-198-18-0-1-5000.local;") == true, "\(browser.stdoutLines)")
        let resolvedB = browser.waitForStdout(containing: ";198.18.0.2;5000;\"v=1\"", timeout: 15)
        #expect(resolvedB?.contains(";pplus2-198-18-0-2-5000.local;") == true, "\(browser.stdoutLines)")

        // Our peers discover avahi's instance: B across the link, A through the shared port.
        expectOurPeersDiscover("avahi peer", peerB: peerB)
        #expect(peerA.waitForStderr(containing: "discovered 198.18.0.1:6000 (\"avahi peer\")", timeout: 10) != nil)

        // B stops cleanly: avahi drops B's instance on its goodbye.
        let instanceB = resolvedB?.split(separator: ";").dropFirst(3).first.map(String.init) ?? "?"
        #expect(peerB.stop() == 0)
        let removed = waitUntil(timeout: 3) {
            browser.stdoutLines.contains { $0.hasPrefix("-;veth0;IPv4;\(instanceB);_pplus2._tcp;local") }
        }
        #expect(removed, "\(browser.stdoutLines)")
    }
}
