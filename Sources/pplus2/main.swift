// pplus2: arguments to a configuration, start the peer, wait, exit.
//
// Exit status: 0 after /quit, SIGINT or SIGTERM; 1 when the peer cannot start
// (a busy port, an unusable folder); 2 on a bad command line.

import PPlus2Core
import PPlus2Node
import PPlus2POSIX

// Before any thread starts: SIGINT and SIGTERM go to the one thread that waits
// for them (below), not a random one.
// (Peer ignores SIGPIPE itself, for every program that embeds it.)
ProcessControl.blockTerminationSignals()
ProcessControl.raiseDescriptorLimit()
ProcessControl.returnLargeBlocksToTheKernel()

func fail(_ message: String, status: Int32, showUsage: Bool = false) -> Never {
    StandardStreams.write("pplus2: error: \(message)\n" + (showUsage ? Options.usage + "\n" : ""), to: 2)
    ProcessControl.exit(status)
}

let options: Options
do {
    switch try Options.parse(Array(CommandLine.arguments.dropFirst())) {
    case .help:
        StandardStreams.write(Options.help + "\n", to: 1)
        ProcessControl.exit(0)
    case .version:
        StandardStreams.write("pplus2 \(Options.version)\n", to: 1)
        ProcessControl.exit(0)
    case .run(let parsed):
        options = parsed
    }
} catch {
    fail(error.message, status: 2, showUsage: true)
}

let configuration: Configuration
do {
    configuration = try Configuration(options)
} catch {
    fail(error.message, status: 2, showUsage: true)
}

// Log lines go through the console's screen, so they never tear its prompt.
let screen = ConsoleScreen.standard()
let peer: Peer
do {
    peer = try Peer(configuration, log: Log(isVerbose: options.verbose, sink: { screen.log("pplus2: " + $0) }))
} catch {
    fail(error.description, status: error.exitStatus)
}
StandardStreams.write(StartupText.readinessLine(peer) + "\n", to: 2)
var summary = StartupText.summary(peer)
if options.console { summary.append("type a query to search every known peer, /help for commands") }
StandardStreams.write(summary.joined(separator: "\n") + "\n", to: 2)

// A console still blocked reading its input is not waited for: the process
// ends under it. One that met the end of its input is joined.
let console = ThreadHandle()
let consoleEnded = OnceFlag()
if options.console {
    try? console.start(name: "console") {
        if Console.run(peer: peer, screen: screen) == .quit {
            screen.quit()  // downloads stopped and said, the prompt on a fresh line
            peer.stopAndExit()
        }
        consoleEnded.set()  // end of input: the console stops, the peer keeps serving
    }
}

_ = ProcessControl.waitForTermination()
screen.quit()
if consoleEnded.isSet { console.join() }
peer.stopAndExit()
