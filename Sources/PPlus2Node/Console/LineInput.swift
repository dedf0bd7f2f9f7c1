import PPlus2Core
import PPlus2POSIX

/// Reads the console's lines from a descriptor (standard input), blocking.
/// Framed by the same `LineFramer` as the wire: a line longer than
/// `maxLineBytes` is cut there; invalid UTF-8 is repaired.
struct LineInput {
    let fd: CInt
    private var framer: LineFramer
    private var pending: [UInt8] = []
    private var position = 0
    private var isAtEnd = false

    init(fd: CInt, maxLineBytes: Int = 64 * 1024) {
        self.fd = fd
        framer = LineFramer(maxLineBytes: maxLineBytes, overlong: .split)
    }

    /// The next line without its `\n` (and `\r`); nil at end of input.
    mutating func nextLine() -> String? {
        while true {
            while position < pending.count {
                let byte = pending[position]
                position += 1
                if case .line(let bytes)? = framer.take(byte) { return String(decoding: bytes, as: UTF8.self) }
            }
            if isAtEnd { return nil }
            pending = StandardStreams.read(from: fd)
            position = 0
            if pending.isEmpty {
                isAtEnd = true
                if case .line(let bytes)? = framer.finish() { return String(decoding: bytes, as: UTF8.self) }
            }
        }
    }
}
