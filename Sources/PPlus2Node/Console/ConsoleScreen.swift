import PPlus2Core
import PPlus2POSIX

/// Where the console writes: standard output for what the person asked,
/// standard error for logs, with a prompt, colour and live lines only on a
/// terminal.
///
/// On a terminal the bottom of the screen is a small region the screen owns:
/// a status line (the progress of running downloads), then the line being
/// typed (the prompt and the line editor's text, the cursor where it is).
/// Everything else, from any thread, is a permanent line printed above the
/// region: the region is erased, the line written, the region drawn again
/// intact, all under one lock and in one write. So a log line or a result
/// arriving while someone types never wipes what they typed.
public final class ConsoleScreen: Sendable {
    public let isTerminal: Bool
    public let usesColour: Bool
    private let region = Locked(Region())
    /// What the console says when the peer quits (its downloads), set by the console.
    private let quitReport = Locked<(@Sendable () -> String?)?>(nil)
    private let write: @Sendable (String, Int32) -> Void
    private let columns: @Sendable () -> Int

    /// The bottom of a terminal: what is drawn there now.
    private struct Region {
        var prompt = ""
        var status: String?
        /// The editor's line (prompt included) and the cursor's column; nil
        /// while no line is being typed (a command runs).
        var editor: (line: String, cursor: Int)?
        /// How many lines of the region are on the screen (the cursor is on the last).
        var drawnLines = 0
    }

    public init(
        isTerminal: Bool,
        usesColour: Bool,
        columns: @escaping @Sendable () -> Int = { 80 },
        write: @escaping @Sendable (String, Int32) -> Void
    ) {
        self.isTerminal = isTerminal
        self.usesColour = usesColour
        self.columns = columns
        self.write = write
    }

    /// The process's own streams: a terminal if both standard input and output
    /// are one; colour unless `NO_COLOR` is set.
    public static func standard() -> ConsoleScreen {
        let isTerminal = StandardStreams.isTerminal(0) && StandardStreams.isTerminal(1)
        return ConsoleScreen(
            isTerminal: isTerminal,
            usesColour: isTerminal && StandardStreams.environment("NO_COLOR") == nil,
            columns: { Terminal.width(1) },
            write: { StandardStreams.write($0, to: $1) }
        )
    }

    var width: Int { columns() }

    /// The prompt the next line is typed after.
    var prompt: String { region.withLock { $0.prompt } }

    /// One line of output, above the region.
    func say(_ text: String) {
        above(text, to: 1)
    }

    /// A log line on standard error, above the region.
    public func log(_ line: String) {
        above(line, to: 2)
    }

    /// Sets the prompt the line editor draws next (a terminal only).
    func showPrompt(_ text: String) {
        guard isTerminal else { return }
        region.withLock { $0.prompt = text }
    }

    /// The line being typed, as the editor renders it.
    func showEditor(line: String, cursor: Int) {
        guard isTerminal else { return }
        redraw { $0.editor = (line, cursor) }
    }

    /// Enter was pressed: `line` (the prompt and what was typed) stays on the
    /// screen, and no line is being typed until the next prompt.
    func commitEditor(_ line: String) {
        guard isTerminal else { return }
        region.withLock { region in
            var text = erase(region)
            text += Self.cut(line, to: columns() - 1) + "\n"
            region.editor = nil
            text += draw(&region)
            write(text, 1)
        }
    }

    /// Sets what `quit` asks for the line about running downloads.
    func setQuitReport(_ report: @escaping @Sendable () -> String?) {
        quitReport.withLock { $0 = report }
    }

    /// The peer quits (`/quit`, Ctrl-D, a signal): running downloads are
    /// stopped, the status line and the line being typed are cleared, one
    /// line says what stopped and what was kept to resume, and the cursor is
    /// left at the start of a fresh line for the shell's prompt.
    public func quit() {
        let line = quitReport.withLock { $0 }?()
        guard isTerminal else {
            if let line { write(line + "\n", 1) }
            return
        }
        region.withLock { region in
            var text = erase(region)
            region.status = nil
            region.editor = nil
            region.drawnLines = 0
            if let line { text += line + "\n" }
            write(text, 1)
        }
    }

    /// The status line (nil: none), redrawn in place.
    func setStatus(_ text: String?) {
        guard isTerminal else { return }
        redraw { $0.status = text }
    }

    private func above(_ text: String, to fd: Int32) {
        guard isTerminal else { return write(text + "\n", fd) }
        region.withLock { region in
            write(erase(region), 1)
            write(text + "\n", fd)
            write(draw(&region), 1)
        }
    }

    private func redraw(_ change: (inout Region) -> Void) {
        region.withLock { region in
            let erased = erase(region)
            change(&region)
            write(erased + draw(&region), 1)
        }
    }

    /// Escapes that clear the region's lines, leaving the cursor at the start of its first.
    private func erase(_ region: Region) -> String {
        guard region.drawnLines > 0 else { return "" }
        return "\r\u{1B}[K" + String(repeating: "\u{1B}[1A\r\u{1B}[K", count: region.drawnLines - 1)
    }

    /// The region's lines, the cursor left where the editor has it.
    private func draw(_ region: inout Region) -> String {
        var lines: [String] = []
        if let status = region.status { lines.append(Self.cut(status, to: columns() - 1)) }
        if let editor = region.editor { lines.append(editor.line) }
        region.drawnLines = lines.count
        var text = lines.joined(separator: "\n")
        if let editor = region.editor { text += "\r" + (editor.cursor > 0 ? "\u{1B}[\(editor.cursor)C" : "") }
        return text
    }

    /// `text` cut to `columns` terminal columns (a status line must not wrap).
    static func cut(_ text: String, to columns: Int) -> String {
        var used = 0
        var kept = ""
        for character in text {
            let width = DisplayWidth.of(character)
            guard used + width <= max(columns, 10) else { break }
            used += width
            kept.append(character)
        }
        return kept
    }

    enum Style: String {
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case cyan = "36"
    }

    /// `text` in `style` when colour is on; as is otherwise.
    func paint(_ text: String, _ style: Style) -> String {
        usesColour ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }
}
