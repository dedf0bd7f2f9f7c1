import Testing

@testable import PPlus2Core

@Suite("Line editor")
struct LineEditorTests {
    /// Types `keys` (decoded from the bytes a terminal sends) into `editor`.
    @discardableResult
    func type(_ bytes: String, into editor: inout LineEditor, completions: [String] = []) -> [LineEditor.Outcome] {
        var decoder = KeyDecoder()
        return decoder.keys(in: Array(bytes.utf8)).map { editor.handle($0) { _ in completions } }
    }

    @Test func editsWithTheEmacsKeys() {
        var editor = LineEditor()
        type("helo", into: &editor)
        type("\u{1B}[D", into: &editor)  // Left
        type("l", into: &editor)
        #expect(editor.line == "hello" && editor.cursor == 4)
        type("\u{01}X\u{05}!", into: &editor)  // Ctrl-A, X, Ctrl-E, !
        #expect(editor.line == "Xhello!")
        type("\u{1B}[H\u{1B}[3~", into: &editor)  // Home, Delete
        #expect(editor.line == "hello!" && editor.cursor == 0)
        type("\u{05} world  \u{17}", into: &editor)  // Ctrl-W takes "world  "
        #expect(editor.line == "hello! ")
        type("\u{7F}\u{7F}", into: &editor)  // Backspace twice
        #expect(editor.line == "hello")
        type("\u{02}\u{02}\u{0B}", into: &editor)  // Ctrl-B twice, Ctrl-K
        #expect(editor.line == "hel")
        type("\u{15}", into: &editor)  // Ctrl-U
        #expect(editor.line.isEmpty)
        #expect(type("ok\r", into: &editor).last == .submitted("ok"))
        #expect(editor.line.isEmpty)
    }

    @Test func movesByCharactersAndCountsWideColumns() {
        var editor = LineEditor()
        type("e\u{301}漢🇫🇷", into: &editor)  // é as two scalars, a wide CJK character, a flag
        #expect(editor.text.count == 3)
        type("\u{1B}[D", into: &editor)
        #expect(editor.cursor == 2)
        // "> " then é (1 column) and 漢 (2): the cursor sits at column 5.
        #expect(editor.rendered(prompt: "> ", width: 80).cursorColumn == 5)
        type("\u{7F}", into: &editor)  // removes 漢 whole
        #expect(editor.line == "e\u{301}🇫🇷")
        #expect(DisplayWidth.of("🇫🇷") == 2 && DisplayWidth.of("漢字") == 4 && DisplayWidth.of("e\u{301}") == 1)
    }

    @Test func historyGoesBackAndComesBackToTheDraft() {
        var editor = LineEditor(history: ["first", "second"])
        type("draft", into: &editor)
        type("\u{1B}[A", into: &editor)
        #expect(editor.line == "second")
        type("\u{1B}[A\u{1B}[A", into: &editor)  // stops at the oldest
        #expect(editor.line == "first")
        type("\u{1B}[B\u{1B}[B", into: &editor)
        #expect(editor.line == "draft")
        type("\r", into: &editor)
        type("draft\r", into: &editor)  // the same line twice in a row is kept once
        #expect(editor.history == ["first", "second", "draft"])
        var long = LineEditor(history: (0..<600).map { "line \($0)" })
        #expect(long.history.count == LineEditor.maxHistory && long.history.first == "line 100")
        type("new\r", into: &long)
        #expect(long.history.count == LineEditor.maxHistory && long.history.last == "new")
    }

    @Test func tabCompletesOrListsTheCandidates() {
        var editor = LineEditor()
        let names = ConsoleCommand.names
        type("/downloads\t", into: &editor, completions: names)
        #expect(editor.line == "/downloads")
        var common = LineEditor()
        type("/do\t", into: &common, completions: names)
        #expect(common.line == "/download", "the common part of /download-folder and /downloads")
        var pe = LineEditor()
        type("/pe\t", into: &pe, completions: names)
        #expect(pe.line == "/peers")
        var other = LineEditor()
        type("/b\t", into: &other, completions: names)
        #expect(other.line == "/browse ")
        var ambiguous = LineEditor()
        let outcomes = type("/\t", into: &ambiguous, completions: names)
        #expect(outcomes.last == .candidates(names))
    }

    @Test func controlCClearsThenReportsAnEmptyLineAndControlDEnds() {
        var editor = LineEditor()
        #expect(type("abc\u{03}", into: &editor).last == .interrupted(hadText: true))
        #expect(editor.line.isEmpty)
        #expect(type("\u{03}", into: &editor).last == .interrupted(hadText: false))
        #expect(type("x\u{01}\u{04}", into: &editor).last == .edited)  // Ctrl-D on text deletes
        #expect(editor.line.isEmpty)
        #expect(type("\u{04}", into: &editor).last == .endOfInput)
    }

    @Test func keysSplitAcrossReadsAndUnknownSequencesNeverBecomeText() {
        var decoder = KeyDecoder()
        #expect(decoder.keys(in: [0x1B, UInt8(ascii: "[")]).isEmpty)
        #expect(decoder.keys(in: [UInt8(ascii: "C")]) == [.right])
        #expect(decoder.keys(in: [0xC3]).isEmpty)  // half of é
        #expect(decoder.keys(in: [0xA9]) == [.text("é")])
        // A modifier is ignored (Ctrl-Right moves like Right); SS3 Home as CSI Home.
        #expect(decoder.keys(in: Array("\u{1B}[1;5Cz\u{1B}OH".utf8)) == [.right, .text("z"), .home])
        #expect(decoder.keys(in: Array("\u{1B}[200~".utf8)).isEmpty)  // bracketed paste marker dropped
        var editor = LineEditor()
        #expect(editor.handle(.text("a\u{1B}b\tc")) == .edited)
        #expect(editor.line == "abc")  // controls inside text are never inserted
        _ = editor.handle(.text(String(repeating: "é", count: LineEditor.maxLineBytes)))  // a paste twice too long
        #expect(editor.line.utf8.count <= LineEditor.maxLineBytes && editor.line.utf8.count > 60_000)
    }
}

@Suite struct LineEditorForgetTests {
    @Test func aPickIsForgottenFromTheHistory() {
        var editor = LineEditor(history: ["report"])
        for key: LineEditor.Key in [.text("1"), .enter] { _ = editor.handle(key) { _ in [] } }
        #expect(editor.history == ["report", "1"])
        editor.forgetLast("1")
        #expect(editor.history == ["report"])
        editor.forgetLast("other")
        #expect(editor.history == ["report"])
    }
}
