import PPlus2Core
import PPlus2POSIX

// The console on a terminal: the line editor in raw mode. Keys go to
// `LineEditor`; what it renders goes to the screen's region, so log lines and
// results print above the line being typed. Ctrl-C clears the line, else
// cancels the newest download, else says how to quit (a second one quits);
// Ctrl-D on an empty line quits like /quit. The terminal's mode is put back
// on every way out (here, at exit, and on a crash: `Terminal`).

extension Console {
    /// Runs the console until `/quit`, Ctrl-D or the end of the terminal; nil
    /// if the terminal cannot be put in raw mode (the plain loop runs instead).
    func runEditing() -> Action? {
        guard Terminal.enterRawMode(0) else { return nil }
        defer { Terminal.restore() }
        history = ConsoleHistory.standard()
        var editor = LineEditor(history: history?.load() ?? [])
        var decoder = KeyDecoder()
        var interruptedOnce = false
        prompt()
        while true {
            let drawn = editor.rendered(prompt: screen.prompt, width: screen.width)
            screen.showEditor(line: drawn.line, cursor: drawn.cursorColumn)
            let bytes = StandardStreams.read(from: 0)
            if bytes.isEmpty { return .proceed }  // the terminal went away: the peer keeps serving
            for key in decoder.keys(in: bytes) {
                let typedPrompt = screen.prompt
                let outcome = editor.handle(key) { completions(for: $0) }
                if key != .interrupt { interruptedOnce = false }
                switch outcome {
                case .edited: continue
                case .submitted(let line):
                    screen.commitEditor(typedPrompt + line)
                    // Queries and commands are worth coming back to; picks are not.
                    switch ConsoleInput.parse(line, isPicking: isPicking) {
                    case .pick, .picks, .skip: editor.forgetLast(line)
                    case .query, .command: history?.append(line)
                    }
                    if handle(line) == .quit { return .quit }
                    prompt()
                case .interrupted(let hadText):
                    if hadText { continue }
                    if let cancelled = jobs.cancel(nil) {
                        say("cancelling \(cancelled)")
                    } else if interruptedOnce {
                        return .quit
                    } else {
                        interruptedOnce = true
                        say("(Ctrl-C again, Ctrl-D or /quit stops this peer)")
                    }
                case .endOfInput:
                    screen.commitEditor(typedPrompt)
                    return .quit
                case .candidates(let candidates):
                    say(candidates.joined(separator: "   "))
                }
            }
        }
    }

    /// What Tab offers for the text before the cursor: the commands, and the
    /// known peers after `/browse `.
    func completions(for text: String) -> [String] {
        if text.hasPrefix("/browse ") {
            return peer.peerReport().entries.map { "/browse \($0.identity)" }
        }
        return text.hasPrefix("/") ? ConsoleCommand.names : []
    }
}

/// The line editor's history across runs: `$XDG_STATE_HOME/pplus2/history`
/// (by default `~/.local/state/pplus2/history`), never in the shared folder;
/// the last `LineEditor.maxHistory` lines, one a line.
struct ConsoleHistory {
    let folder: Folder
    static let name = "history"

    /// The history's folder, created if missing; nil if there is no place for it.
    static func standard() -> ConsoleHistory? {
        let base =
            StandardStreams.environment("XDG_STATE_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? StandardStreams.environment("HOME").map { $0 + "/.local/state" }
        guard let base, let folder = try? Folder.open(creatingIfMissing: base + "/pplus2") else { return nil }
        return ConsoleHistory(folder: folder)
    }

    func load() -> [String] {
        guard let bytes = try? folder.readSmallFile(Self.name, maxBytes: 1 << 20) else { return [] }
        let lines = bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        return Array(lines.suffix(LineEditor.maxHistory))
    }

    /// Adds `line`; past twice the bound, the file is cut back to the bound.
    func append(_ line: String) {
        guard !line.isEmpty,
            let file = (try? folder.openForAppending(Self.name).file)
                ?? (try? folder.createExclusive(Self.name, mode: 0o600))
        else { return }
        _ = Array((line + "\n").utf8).withUnsafeBytes { try? FileWriting.writeAll(file, $0) }
        guard let size = try? file.status().size, size > 2 * 200 * Int64(LineEditor.maxHistory) else { return }
        let kept = load().joined(separator: "\n") + "\n"
        try? folder.replaceSmallFile(Self.name, with: Array(kept.utf8), draft: ".history-\(ProcessControl.pid)")
    }
}
