/// What one line typed at the console means.
///
/// - A line that starts with `/` is a command (no file name can start with `/`,
///   so no query is ever lost to a command).
/// - Right after a listing, a number picks a match and an empty line skips.
/// - Anything else is a query; the empty query lists every file.
public enum ConsoleInput: Equatable, Sendable {
    case query(String)
    case command(ConsoleCommand)
    /// A number typed right after a listing (1-based, not yet range-checked).
    case pick(Int)
    /// An empty line right after a listing.
    case skip

    /// Parses `line` (terminator already stripped). `isPicking` says whether the
    /// previous output was a listing the user may pick from.
    public static func parse(_ line: String, isPicking: Bool) -> ConsoleInput {
        if line.hasPrefix("/") { return .command(ConsoleCommand(line)) }
        guard isPicking else { return .query(line) }
        let trimmed = line.trimmingSpaces()
        if trimmed.isEmpty { return .skip }
        if trimmed.utf8.count <= 9, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int(trimmed)
        {
            return .pick(number)
        }
        return .query(line)
    }
}

/// The console's commands.
public enum ConsoleCommand: Equatable, Sendable {
    case peers
    case files
    case help
    case quit
    /// A `/word` that is not a command; never sent as a query.
    case unknown(String)

    public init(_ line: String) {
        switch line.trimmingSpaces() {
        case "/peers": self = .peers
        case "/files": self = .files
        case "/help", "/?": self = .help
        case "/quit", "/exit": self = .quit
        default: self = .unknown(line.trimmingSpaces())
        }
    }

    /// One line per command, for `/help`.
    public static let summary = """
        Type a search and press Enter: every known peer is asked, matches are numbered.
        Then type a number to download that match into the shared folder, or Enter to skip.
        An empty search lists every file of every peer.
          /peers   known peers, their state and how they were learned
          /files   the files this peer shares
          /help    this help
          /quit    stop this peer
        """
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
