import PPlus2POSIX

/// Where the console writes: standard output for what the person asked,
/// standard error for logs, with a prompt and colour only on a terminal.
///
/// On a terminal, a log line from another thread first clears the line the
/// prompt is on, then shows the prompt again, so it never tears the prompt.
/// (What the person has typed so far is held by the terminal, not by us.)
public final class ConsoleScreen: Sendable {
    public let isTerminal: Bool
    public let usesColour: Bool
    private let prompt = Locked("")
    private let write: @Sendable (String, Int32) -> Void

    public init(isTerminal: Bool, usesColour: Bool, write: @escaping @Sendable (String, Int32) -> Void) {
        self.isTerminal = isTerminal
        self.usesColour = usesColour
        self.write = write
    }

    /// The process's own streams: a terminal if both standard input and output
    /// are one; colour unless `NO_COLOR` is set.
    public static func standard() -> ConsoleScreen {
        let isTerminal = StandardStreams.isTerminal(0) && StandardStreams.isTerminal(1)
        return ConsoleScreen(
            isTerminal: isTerminal,
            usesColour: isTerminal && StandardStreams.environment("NO_COLOR") == nil
        ) { StandardStreams.write($0, to: $1) }
    }

    /// One line of output.
    func say(_ text: String) {
        write(text + "\n", 1)
    }

    /// Output without a newline: progress redraws on a terminal.
    func draw(_ text: String) {
        write(text, 1)
    }

    /// Shows `text` as the prompt (on a terminal only) and remembers it.
    func showPrompt(_ text: String) {
        guard isTerminal else { return }
        prompt.withLock { $0 = text }
        write(text, 1)
    }

    /// A log line on standard error that does not tear the prompt.
    public func log(_ line: String) {
        guard isTerminal else {
            write(line + "\n", 2)
            return
        }
        write("\r\u{1B}[K" + line + "\n", 2)
        write(prompt.withLock { $0 }, 1)
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
