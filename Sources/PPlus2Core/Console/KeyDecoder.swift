/// Turns the bytes a terminal sends in raw mode into the line editor's keys:
/// UTF-8 text (a key or a paste), control bytes, and the escape sequences of
/// the arrows, Home, End and Delete in both forms terminals use (`ESC [ C`
/// and `ESC O C`, `ESC [ 3 ~`, `ESC [ 1 ~`...). Unknown sequences are read
/// whole and dropped, so they never arrive as text.
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// The keys in `bytes`; an unfinished sequence (half a UTF-8 character,
    /// an escape cut between two reads) waits for the next bytes.
    public mutating func keys(in bytes: some Sequence<UInt8>) -> [LineEditor.Key] {
        pending += bytes
        var keys: [LineEditor.Key] = []
        var text: [UInt8] = []
        var position = 0
        func flushText() {
            if !text.isEmpty { keys.append(.text(String(decoding: text, as: UTF8.self))) }
            text = []
        }
        while position < pending.count {
            let byte = pending[position]
            if byte == 0x1B {
                guard let (key, length) = Self.escape(pending[position...]) else { break }  // wait for the rest
                flushText()
                if let key { keys.append(key) }
                position += length
            } else if byte < 0x20 || byte == 0x7F {
                flushText()
                if let key = Self.control(byte) { keys.append(key) }
                position += 1
            } else {
                let length = Self.utf8Length(byte)
                guard position + length <= pending.count else { break }  // half a character: wait
                text += pending[position..<(position + length)]
                position += length
            }
        }
        flushText()
        pending.removeFirst(position)
        return keys
    }

    private static func control(_ byte: UInt8) -> LineEditor.Key? {
        switch byte {
        case 0x0D, 0x0A: .enter
        case 0x7F, 0x08: .backspace
        case 0x09: .tab
        case 0x01: .home
        case 0x05: .end
        case 0x02: .left
        case 0x06: .right
        case 0x10: .up
        case 0x0E: .down
        case 0x0B: .killToEnd
        case 0x15: .killToStart
        case 0x17: .killWord
        case 0x03: .interrupt
        case 0x04: .endOfInput
        case 0x0C: .redraw
        default: nil
        }
    }

    /// The key of the escape sequence at the start of `bytes` and its length;
    /// nil if it is not complete yet. A key of nil: a sequence we do not use.
    private static func escape(_ bytes: ArraySlice<UInt8>) -> (LineEditor.Key?, Int)? {
        let start = bytes.startIndex
        guard bytes.count >= 2 else { return nil }
        let kind = bytes[start + 1]
        guard kind == UInt8(ascii: "[") || kind == UInt8(ascii: "O") else { return (nil, 2) }  // Alt-key: dropped
        // Parameters (digits, ';') then one final byte in 0x40...0x7E.
        var end = start + 2
        while end < bytes.endIndex && (0x30...0x3F).contains(bytes[end]) { end += 1 }
        guard end < bytes.endIndex else { return bytes.count > 16 ? (nil, bytes.count) : nil }
        let final = bytes[end]
        let parameters = String(decoding: bytes[(start + 2)..<end], as: UTF8.self)
        let length = end - start + 1
        let key: LineEditor.Key? =
            switch (final, parameters.split(separator: ";").first.map(String.init) ?? "") {
            case (UInt8(ascii: "A"), _): .up
            case (UInt8(ascii: "B"), _): .down
            case (UInt8(ascii: "C"), _): .right
            case (UInt8(ascii: "D"), _): .left
            case (UInt8(ascii: "H"), _): .home
            case (UInt8(ascii: "F"), _): .end
            case (UInt8(ascii: "~"), "1"), (UInt8(ascii: "~"), "7"): .home
            case (UInt8(ascii: "~"), "4"), (UInt8(ascii: "~"), "8"): .end
            case (UInt8(ascii: "~"), "3"): .delete
            default: nil
            }
        return (key, length)
    }

    /// The length of the UTF-8 sequence a byte starts (1 for a stray
    /// continuation byte, which decodes to U+FFFD).
    private static func utf8Length(_ byte: UInt8) -> Int {
        switch byte {
        case 0xC0...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF7: 4
        default: 1
        }
    }
}
