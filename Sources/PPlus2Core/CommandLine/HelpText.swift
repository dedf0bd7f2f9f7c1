/// `--help` and the usage line, made from `OptionTable`.
extension Options {

    /// `usage: pplus2 [--port P] [--bootstrap HOST:PORT]... ...`, wrapped.
    public static var usage: String {
        let items = OptionTable.options.map { option in
            "[\(option.synopsis)]" + (option.name == "--bootstrap" ? "..." : "")
        }
        return wrap(items, first: "usage: pplus2 ", indent: String(repeating: " ", count: 14), width: 80)
    }

    public static var help: String {
        var lines = [
            "pplus2 \(version): a peer of the P+2 file-search protocol.",
            "Shares one folder; serves peer lists on port P, name search on P+1 and",
            "downloads on P+2; learns peers by gossip; a console searches every known",
            "peer and downloads the chosen file into the shared folder.",
            "",
            usage,
            "",
            "OPTIONS:",
        ]
        for option in OptionTable.options {
            let label = "  " + ([option.synopsis] + option.aliases).joined(separator: ", ")
            let text = option.meaning + (option.defaultValue.map { " (default: \($0))" } ?? "")
            let padded = label.count < 27 ? label + String(repeating: " ", count: 27 - label.count) : label + " "
            lines.append(wrap(text.split(separator: " ").map(String.init), first: padded, indent: pad, width: 80))
        }
        lines += [
            "",
            "CONSOLE:",
            "  a line not starting with /  search every known peer (empty: list all)",
            "  a number after a listing    download that match into the shared folder",
            "  an empty line after one     skip",
            "  /browse HOST:PORT [FOLDER]  list one peer's files, or one of its folders",
            "  /download-folder HOST:PORT FOLDER  download a whole folder, structure kept",
            "  /peers  /files  /more  /downloads  /cancel [N]  /resume [N]  /help  /quit",
            "  on a terminal: a line editor (history, Tab), Ctrl-C cancels, Ctrl-D quits",
            "",
            "ENVIRONMENT:",
            "  NO_COLOR                 no colour on a terminal",
            "  XDG_STATE_HOME           where the console's history is kept (pplus2/history)",
            "",
            "Exit status: 0 on /quit, SIGINT or SIGTERM; 1 if a port is busy or the",
            "folder is unusable; 2 on a bad argument.",
        ]
        return lines.joined(separator: "\n")
    }

    private static let pad = String(repeating: " ", count: 27)

    /// `words` after `first`, wrapped at `width` with `indent` on later lines.
    private static func wrap(_ words: [String], first: String, indent: String, width: Int) -> String {
        var lines: [String] = []
        var line = first
        var lineHasWord = false
        for word in words {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
