/// The rules of the console's line editor, as a pure value: keys in, an
/// outcome out, and the text, the cursor and the history in between. No
/// terminal here: the node reads the keys (`KeyDecoder`) and draws what
/// `rendered` says.
///
/// Emacs keys, as readline has them: Left/Right (Ctrl-B/F), Home/End
/// (Ctrl-A/E), Backspace, Delete (and Ctrl-D on a non-empty line), Ctrl-K
/// (to the end), Ctrl-U (to the start), Ctrl-W (the word before), Up/Down
/// (Ctrl-P/N) through the history, Tab to complete. The cursor moves by
/// characters (grapheme clusters), so `é` made of two scalars or a flag emoji
/// is one step, and columns count wide characters (CJK, emoji) as two.
public struct LineEditor: Sendable {
    public enum Key: Equatable, Sendable {
        /// Printable text (a key, or a paste).
        case text(String)
        case enter, backspace, delete, left, right, home, end, up, down, tab
        /// Ctrl-K, Ctrl-U, Ctrl-W.
        case killToEnd, killToStart, killWord
        /// Ctrl-C.
        case interrupt
        /// Ctrl-D.
        case endOfInput
        /// Ctrl-L.
        case redraw
    }

    public enum Outcome: Equatable, Sendable {
        /// The text or the cursor changed (or not): draw it again.
        case edited
        /// Enter: the line, added to the history.
        case submitted(String)
        /// Ctrl-C: the line was cleared (`hadText`), or was empty already.
        case interrupted(hadText: Bool)
        /// Ctrl-D on an empty line.
        case endOfInput
        /// Tab found several completions and no longer common start: show them.
        case candidates([String])
    }

    /// The most lines the history keeps.
    public static let maxHistory = 500
    /// The longest line, in UTF-8 bytes, as a pipe's console lines (a paste past it is cut).
    public static let maxLineBytes = 64 * 1024

    public private(set) var text: [Character] = []
    /// Where the cursor is, in characters from the start.
    public private(set) var cursor = 0
    public private(set) var history: [String]
    /// Which history line is shown while browsing it (nil: the one being typed).
    private var browsing: Int?
    private var draft: [Character] = []

    public init(history: [String] = []) {
        self.history = Array(history.suffix(Self.maxHistory))
    }

    public var line: String { String(text) }

    /// Applies `key`; `completions` gives the candidates for the text before
    /// the cursor when the key is Tab.
    public mutating func handle(_ key: Key, completions: (String) -> [String] = { _ in [] }) -> Outcome {
        switch key {
        case .text(let typed): insert(typed)
        case .enter: return submit()
        case .backspace:
            if cursor > 0 {
                text.remove(at: cursor - 1)
                cursor -= 1
            }
        case .delete: if cursor < text.count { text.remove(at: cursor) }
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(text.count, cursor + 1)
        case .home: cursor = 0
        case .end: cursor = text.count
        case .up: showHistory(browsing.map { $0 - 1 } ?? history.count - 1)
        case .down: if let browsing { showHistory(browsing + 1) }
        case .tab: return complete(with: completions(String(text[..<cursor])))
        case .killToEnd: text.removeSubrange(cursor...)
        case .killToStart:
            text.removeSubrange(..<cursor)
            cursor = 0
        case .killWord: killWord()
        case .interrupt:
            let hadText = !text.isEmpty
            reset()
            return .interrupted(hadText: hadText)
        case .endOfInput:
            if text.isEmpty { return .endOfInput }
            if cursor < text.count { text.remove(at: cursor) }
        case .redraw: break
        }
        return .edited
    }

    private mutating func insert(_ typed: String) {
        // Nothing that would move a terminal's cursor: controls are not text.
        var room = Self.maxLineBytes - text.reduce(0) { $0 + $1.utf8.count }
        let printable = typed.filter { character in
            !character.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
        }.prefix { character in
            room -= character.utf8.count
            return room >= 0
        }
        text.insert(contentsOf: printable, at: cursor)
        cursor += printable.count
    }

    /// Forgets the last line submitted if it is `line` (a pick: numbers are
    /// no use to come back to between queries).
    public mutating func forgetLast(_ line: String) {
        if history.last == line { history.removeLast() }
    }

    private mutating func submit() -> Outcome {
        let submitted = line
        reset()
        if !submitted.isEmpty && history.last != submitted {
            history.append(submitted)
            if history.count > Self.maxHistory { history.removeFirst(history.count - Self.maxHistory) }
        }
        return .submitted(submitted)
    }

    private mutating func reset() {
        text = []
        cursor = 0
        browsing = nil
        draft = []
    }

    /// Shows history line `position`; past the newest, the line being typed.
    private mutating func showHistory(_ position: Int) {
        guard !history.isEmpty else { return }
        if browsing == nil { draft = text }
        if position >= history.count {
            browsing = nil
            text = draft
        } else {
            browsing = max(0, position)
            text = Array(history[browsing!])
        }
        cursor = text.count
    }

    private mutating func killWord() {
        var start = cursor
        while start > 0 && text[start - 1] == " " { start -= 1 }
        while start > 0 && text[start - 1] != " " { start -= 1 }
        text.removeSubrange(start..<cursor)
        cursor = start
    }

    /// Completes the text before the cursor: one candidate replaces it, several
    /// extend it to their common start, or are listed when there is none.
    private mutating func complete(with candidates: [String]) -> Outcome {
        let before = String(text[..<cursor])
        let matching = candidates.filter { $0.hasPrefix(before) }
        guard let first = matching.first else { return .edited }
        let common = matching.dropFirst().reduce(first) { common, candidate in
            String(zip(common, candidate).prefix { $0 == $1 }.map(\.0))
        }
        guard common.count > before.count || matching.count == 1 else { return .candidates(matching) }
        let after = text[cursor...]
        text = Array(common) + after
        cursor = common.count
        return .edited
    }

    // MARK: Drawing

    /// What to draw for `prompt` and the text in `width` columns: the part
    /// of the line that fits, scrolled so the cursor shows, and the cursor's
    /// column from the left edge.
    public func rendered(prompt: String, width: Int) -> (line: String, cursorColumn: Int) {
        let promptWidth = DisplayWidth.of(prompt)
        let room = max(8, width - promptWidth - 1)
        let widths = text.map(DisplayWidth.of)
        // Scroll: the window ends at the cursor if the text before it does not fit.
        var start = 0
        var beforeCursor = widths[..<cursor].reduce(0, +)
        while beforeCursor > room && start < cursor {
            beforeCursor -= widths[start]
            start += 1
        }
        var end = start
        var used = 0
        while end < text.count && used + widths[end] <= room {
            used += widths[end]
            end += 1
        }
        return (prompt + String(text[start..<end]), promptWidth + beforeCursor)
    }
}

/// How many terminal columns text takes: East Asian wide and fullwidth
/// characters and emoji two, combining marks and format characters none,
/// others one (what `wcwidth` says, for the ranges that matter here).
public enum DisplayWidth {
    public static func of(_ text: String) -> Int {
        text.reduce(0) { $0 + of($1) }
    }

    public static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        if character.unicodeScalars.count > 1 && character.unicodeScalars.contains(where: isEmojiPresentation) {
            return 2  // an emoji sequence (a flag, a skin tone, a family) is one wide glyph
        }
        return of(first)
    }

    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if value == 0x200B || (0x1160...0x11FF).contains(value) { return 0 }  // zero width space, jamo vowels
        return isWide(value) || isEmojiPresentation(scalar) ? 2 : 1
    }

    private static func isEmojiPresentation(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isEmojiPresentation
    }

    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            true
        default: false
        }
    }
}
