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
    /// Several numbers and ranges typed right after a listing (`1 3 5-8`,
    /// commas allowed), in the order typed, ranges expanded; each is
    /// downloaded as if picked alone.
    case picks([Int])
    /// An empty line right after a listing.
    case skip

    /// Parses `line` (terminator already stripped). `isPicking` says whether the
    /// previous output was a listing the user may pick from.
    public static func parse(_ line: String, isPicking: Bool) -> ConsoleInput {
        if line.hasPrefix("/") { return .command(ConsoleCommand(line)) }
        guard isPicking else { return .query(line) }
        let trimmed = line.trimmingSpaces()
        if trimmed.isEmpty { return .skip }
        // A number, or what can only be a mistyped one (`-1`, `0`), picks.
        let digits = trimmed.hasPrefix("-") ? trimmed.dropFirst() : Substring(trimmed)
        if !digits.isEmpty, digits.utf8.count <= 9,
            digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int(trimmed)
        {
            return .pick(number)
        }
        if let numbers = Self.picks(trimmed) { return .picks(numbers) }
        return .query(line)
    }

    /// The most matches one line picks (ranges expanded).
    public static let maxPicks = 1000

    /// `1 3 5-8` or `1,3,5-8` as numbers; nil unless every part is a number or
    /// an ascending range of them, and there are at most `maxPicks`.
    static func picks(_ text: String) -> [Int]? {
        let parts = text.split { $0 == " " || $0 == "," || $0 == "\t" }
        guard parts.count >= 1 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                bounds.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }),
                let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low <= high,
                numbers.count + (high - low + 1) <= maxPicks
            else { return nil }
            numbers += Array(low...high)
        }
        return numbers.isEmpty ? nil : numbers
    }
}

/// The console's commands.
public enum ConsoleCommand: Equatable, Sendable {
    case peers
    case files
    case help
    case quit
    /// `/browse HOST:PORT [FOLDER]`: the files of one peer, or of one of its
    /// folders (its sub-folders named beside).
    case browse(HostPort, folder: String?)
    /// `/download-folder HOST:PORT FOLDER`: every file of that folder of one
    /// peer, its structure kept.
    case downloadFolder(HostPort, folder: String)
    /// `/more`: the next page of a terminal's listing.
    case more
    /// `/downloads`: what runs, with its progress.
    case downloads
    /// `/cancel [N]`: stops download N of `/downloads` (nil: the newest).
    case cancel(Int?)
    /// `/resume [N]`: the kept downloads, numbered; with N, resumes that one
    /// from any known peer offering its content.
    case resume(Int?)
    /// A known command used wrongly: the one-line error to show.
    case misused(String)
    /// A `/word` that is not a command; never sent as a query.
    case unknown(String)

    public init(_ line: String) {
        let words = line.trimmingSpaces().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let name = words.first ?? "/"
        let arguments = words.dropFirst()
        func noArguments(_ command: ConsoleCommand) -> ConsoleCommand {
            arguments.isEmpty ? command : .misused("\(name) takes no argument")
        }
        switch name {
        case "/peers": self = noArguments(.peers)
        case "/files": self = noArguments(.files)
        case "/help", "/?": self = noArguments(.help)
        case "/quit", "/exit": self = noArguments(.quit)
        case "/downloads": self = noArguments(.downloads)
        case "/more": self = noArguments(.more)
        case "/cancel":
            guard let argument = arguments.first else {
                self = .cancel(nil)
                return
            }
            guard arguments.count == 1, let number = Int(argument), number > 0 else {
                self = .misused("usage: /cancel [N], N a number of /downloads")
                return
            }
            self = .cancel(number)
        case "/resume":
            guard let argument = arguments.first else {
                self = .resume(nil)
                return
            }
            guard arguments.count == 1, let number = Int(argument), number > 0 else {
                self = .misused("usage: /resume [N], N a number of the kept downloads (/resume lists them)")
                return
            }
            self = .resume(number)
        case "/browse":
            guard let (address, folder) = Self.addressAndFolder(line), SharedPath.isValid(folder ?? "x") else {
                self = .misused("usage: /browse HOST:PORT [FOLDER], for example /browse 10.0.0.7:5000 Album 3")
                return
            }
            self = .browse(address, folder: folder)
        case "/download-folder":
            guard let (address, folder) = Self.addressAndFolder(line), let folder, SharedPath.isValid(folder) else {
                self = .misused(
                    "usage: /download-folder HOST:PORT FOLDER, for example /download-folder 10.0.0.7:5000 lab"
                )
                return
            }
            self = .downloadFolder(address, folder: folder)
        default: self = .unknown(name)
        }
    }

    /// `/command HOST:PORT [FOLDER]`: the address, and the rest of the line
    /// (spaces kept, a trailing `/` dropped) if any.
    static func addressAndFolder(_ line: String) -> (HostPort, String?)? {
        let text = line.trimmingSpaces()
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let afterName = text.firstIndex(where: isSpace) else { return nil }
        let rest = text[afterName...].trimmingSpaces()
        let end = rest.firstIndex(where: isSpace) ?? rest.endIndex
        guard let address = HostPort(String(rest[..<end])) else { return nil }
        var folder = rest[end...].trimmingSpaces()
        while folder.hasSuffix("/") { folder.removeLast() }
        return (address, folder.isEmpty ? nil : folder)
    }

    /// The commands, for Tab completion (with the space of those that take an argument).
    public static let names = [
        "/browse ", "/cancel", "/download-folder ", "/downloads", "/files", "/help", "/more", "/peers", "/quit",
        "/resume",
    ]

    /// One line per command, for `/help`.
    public static let summary = """
        Type a search and press Enter: every known peer is asked, matches are numbered.
        Then type a number to download that match into the shared folder, or Enter to skip.
        An empty search lists every file of every peer.
          /browse HOST:PORT [FOLDER]
                              the files of one peer (or of one of its folders), numbered like a search
          /download-folder HOST:PORT FOLDER
                              download a whole folder of one peer, its sub-folders kept, each file verified
          /peers              known peers: state, last contact, how each was learned
          /files              the files this peer shares
          /more               the next page of a long listing (on a terminal)
          /downloads          downloads running, with their progress (on a terminal they run beside the console)
          /cancel [N]         stop download N of /downloads (the newest without N; Ctrl-C too)
          /resume [N]         the broken-off downloads kept, numbered; with N, resume that one
          /help               this help
          /quit               stop this peer
        """
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
