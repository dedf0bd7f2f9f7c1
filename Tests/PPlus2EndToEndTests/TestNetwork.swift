import Foundation
import PPlus2TestSupport
import Testing

/// Two hosts of their own for a test: Linux network namespaces that the test
/// creates, joined by a veth pair, with addresses from 198.18.0.0/15 (the
/// range set aside for network tests) that exist only inside them. Nothing
/// touches the machine's own interfaces. Each test makes its own pair (random
/// names), so tests run in parallel; `remove` deletes both namespaces, and
/// with them the veth pair and every address.
final class TestNetwork: Sendable {
    let hosts: [String]
    let addresses = ["198.18.0.1", "198.18.0.2"]

    /// Skips the calling test, saying why, where namespaces cannot be made.
    init(multicast: Bool = true) throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        hosts = ["pp2-\(tag)-a", "pp2-\(tag)-b"]
        do {
            try Self.ip(["netns", "add", hosts[0]])
        } catch {
            try Test.cancel("skipped: cannot create a network namespace here (needs root and iproute2): \(error)")
        }
        do {
            try Self.ip(["netns", "add", hosts[1]])
            try Self.ip([
                "-n", hosts[0], "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", hosts[1],
            ])
            for (host, address) in zip(hosts, addresses) {
                try Self.ip(["-n", host, "addr", "add", address + "/24", "dev", "veth0"])
                try Self.ip(["-n", host, "link", "set", "veth0", "multicast", multicast ? "on" : "off"])
                try Self.ip(["-n", host, "link", "set", "veth0", "up"])
                try Self.ip(["-n", host, "link", "set", "lo", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    func remove() {
        for host in hosts { try? Self.ip(["netns", "del", host]) }
    }

    /// The command prefix that runs a program on `host` (0 or 1). `ip netns exec`
    /// execs the program under its own pid, so stopping it stops the program.
    func launcher(_ host: Int) -> [String] {
        ["/usr/sbin/ip", "netns", "exec", hosts[host]]
    }

    static func ip(_ arguments: [String]) throws {
        try runCommand("/usr/sbin/ip", arguments)
    }

    /// Sends one line to `port` on `host` and returns the answer (python3's
    /// socket module does it; the test process stays in the machine's namespace).
    func probe(host: Int, port: Int, line: String) throws -> String {
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", \(port)), timeout=5)
            s.sendall(sys.argv[1].encode() + b"\\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            sys.stdout.write(data.decode())
            """
        return try runCommand("/usr/sbin/ip", ["netns", "exec", hosts[host], "python3", "-c", script, line])
    }
}
