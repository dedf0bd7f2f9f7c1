import Testing

@testable import PPlus2Core

@Suite("Command line")
struct OptionsTests {
    func run(_ arguments: [String]) throws -> Options {
        guard case .run(let options) = try Options.parse(arguments) else {
            Issue.record("expected a run")
            return Options()
        }
        return options
    }

    func error(_ arguments: [String]) -> String? {
        do {
            _ = try Options.parse(arguments)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func hasTheContractsDefaults() throws {
        let options = try run([])
        #expect(options.port == 5000)
        #expect(options.bootstraps.isEmpty)
        #expect(options.directory == "./shared")
        #expect(options.host == nil)
        #expect(options.bind == .any)
        #expect(options.gossipInterval == 10)
        #expect(options.timeout == 5)
        #expect(options.console)
        #expect(!options.discover)
    }

    @Test func parsesEveryOption() throws {
        let options = try run([
            "--port", "0", "--bootstrap", "10.0.0.1:5000", "--bootstrap=peer.lan:6000", "--dir", "/tmp/x",
            "--host", "10.0.0.9", "--bind=127.0.0.1", "--gossip-interval", "0.5", "--timeout", "2",
            "--no-console", "--discover", "--max-download-size", "500M", "--verbose", "--discovery-ttl", "4",
        ])
        #expect(options.port == 0)
        #expect(options.bootstraps.map(\.description) == ["10.0.0.1:5000", "peer.lan:6000"])
        #expect(options.directory == "/tmp/x")
        #expect(options.host?.description == "10.0.0.9")
        #expect(options.bind == .loopback)
        #expect(options.gossipInterval == 0.5)
        #expect(options.timeout == 2)
        #expect(!options.console)
        #expect(options.discover)
        #expect(options.discoveryTTL == 4)
        #expect(options.maxDownloadSize == 500 << 20)
        #expect(options.verbose)
    }

    @Test func parsesSizes() {
        #expect(Options.byteCount("1048576") == 1_048_576)
        #expect(Options.byteCount("64G") == 64 << 30)
        #expect(Options.byteCount("2KiB") == 2048)
        #expect(Options.byteCount("1T") == 1 << 40)
        #expect(Options.byteCount("") == nil)
        #expect(Options.byteCount("G") == nil)
        #expect(Options.byteCount("5X") == nil)
        #expect(Options.byteCount("-5") == nil)
        #expect(Options.byteCount("99999999999T") == nil)  // overflow
    }

    @Test func recognisesHelpAndVersion() throws {
        #expect(try Options.parse(["--help"]) == .help)
        #expect(try Options.parse(["--port", "1", "-h"]) == .help)
        #expect(try Options.parse(["--version"]) == .version)
    }

    @Test(arguments: [
        (["--port", "65534"], "--port"),
        (["--port", "-1"], "--port"),
        (["--port", "x"], "--port"),
        (["--port"], "--port"),
        (["--bootstrap", "nohost"], "--bootstrap"),
        (["--bootstrap", "h:0"], "--bootstrap"),
        (["--bootstrap", "h:65534"], "--bootstrap"),
        (["--bootstrap", ":5000"], "--bootstrap"),
        (["--host", "0.0.0.0"], "--host"),
        (["--host", "name"], "--host"),
        (["--bind", "224.0.0.1"], "--bind"),
        (["--bind", "1.2.3"], "--bind"),
        (["--gossip-interval", "0"], "--gossip-interval"),
        (["--gossip-interval", "nan"], "--gossip-interval"),
        (["--timeout", "-1"], "--timeout"),
        (["--timeout", "inf"], "--timeout"),
        (["--dir", ""], "--dir"),
        (["--max-download-size", "0"], "--max-download-size"),
        (["--max-download-size", "lots"], "--max-download-size"),
        (["--no-console=yes"], "--no-console"),
        (["--discover=yes"], "--discover"),
        (["--discovery-ttl", "0"], "--discovery-ttl"),
        (["--discovery-ttl", "4501"], "--discovery-ttl"),
        (["--discovery-ttl", "1.5"], "--discovery-ttl"),
        (["--frobnicate"], "--frobnicate"),
        (["stray"], "stray"),
    ])
    func refusesBadArgumentsNamingThem(arguments: [String], named: String) {
        let message = error(arguments)
        #expect(message != nil, "accepted \(arguments)")
        #expect(message?.contains(named) == true, "\(message ?? "") does not name \(named)")
        #expect(message?.contains("\n") == false)
    }

    @Test func helpListsEveryOption() {
        for option in [
            "--port", "--bootstrap", "--dir", "--host", "--bind", "--gossip-interval", "--timeout", "--no-console",
            "--discover", "--discovery-ttl", "--max-download-size", "--verbose", "--help", "--version",
        ] {
            #expect(Options.help.contains(option))
            #expect(Options.usage.contains(option))
        }
    }

    @Test func anOptionIsNeverTakenForTheValueOfAnother() throws {
        #expect(error(["--dir", "--no-console"]) == "missing value for '--dir PATH'")
        #expect(error(["--port", "--no-console"])?.hasPrefix("missing value for '--port") == true)
        #expect(error(["--dir"])?.hasPrefix("missing value for '--dir") == true)
        guard case .run(let options) = try Options.parse(["--dir=--odd", "--no-console"]) else {
            Issue.record("expected a run")
            return
        }
        #expect(options.directory == "--odd" && options.console == false)
    }
}
