/// SHA-256 (FIPS 180-4), the project's own: the hash the extension of the
/// protocol names files by (`sha256sum` prints the same hex).
///
/// Feed bytes with `update`, any number of times, then `finish`. The block
/// function is passed in: `portable` here, in Swift; where the CPU has the SHA
/// extensions the peer passes the accelerated one of its C shim
/// (`HardwareSHA256` in PPlus2POSIX), and the tests check the two agree.
public struct SHA256: Sendable {
    /// Compresses `count` 64-byte blocks at `blocks` into `state` (eight words).
    public typealias BlockFunction = @Sendable (UnsafeMutablePointer<UInt32>, UnsafeRawPointer, Int) -> Void

    private var state: [UInt32] = SHA256.initialState
    private var pending: [UInt8] = []  // fewer than 64 bytes, not yet compressed
    private var length: UInt64 = 0
    private let compress: BlockFunction

    public init(blockFunction: @escaping BlockFunction = SHA256.portable) {
        compress = blockFunction
        pending.reserveCapacity(64)
    }

    /// Goes on from `value`, the chaining value after the first `length`
    /// bytes of a message (a multiple of 64): hashing the rest from here gives
    /// the SHA-256 of the whole message, as if it had been fed from its start.
    /// What lets a piece of a file be checked alone (`PieceList`).
    public init(continuingFrom value: SHA256Digest, after length: Int64, blockFunction: @escaping BlockFunction) {
        precondition(length >= 0 && length % 64 == 0, "a chaining value falls on a block boundary")
        self.init(blockFunction: blockFunction)
        state = value.words
        self.length = UInt64(length)
    }

    /// The chaining value after the bytes fed so far, when they are a whole
    /// number of 64-byte blocks (nil otherwise): the state `finish` would pad
    /// and compress, and where `init(continuingFrom:after:)` goes on.
    public var chainingValue: SHA256Digest? {
        pending.isEmpty ? SHA256Digest(words: state) : nil
    }

    /// The hash of `bytes` in one call.
    public static func hash(
        _ bytes: some Collection<UInt8>,
        blockFunction: @escaping BlockFunction = SHA256.portable
    ) -> SHA256Digest {
        var hasher = SHA256(blockFunction: blockFunction)
        hasher.update(Array(bytes))
        return hasher.finish()
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        length &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let taken = min(64 - pending.count, bytes.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<taken]))
            offset = taken
            guard pending.count == 64 else { return }
            compressPending()
        }
        let blocks = (bytes.count - offset) / 64
        if blocks > 0 {
            state.withUnsafeMutableBufferPointer { compress($0.baseAddress!, base + offset, blocks) }
            offset += blocks * 64
        }
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }

    /// Pads, compresses the rest and returns the digest. The hasher is spent.
    public mutating func finish() -> SHA256Digest {
        let bits = length &* 8
        pending.append(0x80)
        while pending.count % 64 != 56 { pending.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { pending.append(UInt8(truncatingIfNeeded: bits >> shift)) }
        let blocks = pending.count / 64
        pending.withUnsafeBytes { bytes in
            state.withUnsafeMutableBufferPointer { compress($0.baseAddress!, bytes.baseAddress!, blocks) }
        }
        pending.removeAll()
        return SHA256Digest(words: state)
    }

    private mutating func compressPending() {
        pending.withUnsafeBytes { bytes in
            state.withUnsafeMutableBufferPointer { compress($0.baseAddress!, bytes.baseAddress!, 1) }
        }
        pending.removeAll(keepingCapacity: true)
    }

    static let initialState: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
}

/// A SHA-256 digest; its text is the 64 lowercase hex digits `sha256sum` prints.
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    // The 32 bytes as four big-endian 64-bit words, held inline: a table of
    // 100,000 digests makes no allocation a digest.
    private let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    /// The 32 bytes, big-endian words in order.
    public var bytes: [UInt8] {
        [a, b, c, d].flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * $0)) } }
    }

    /// The eight 32-bit words (a chaining value's state).
    var words: [UInt32] {
        [a, b, c, d].flatMap { [UInt32(truncatingIfNeeded: $0 >> 32), UInt32(truncatingIfNeeded: $0)] }
    }

    init(words: [UInt32]) {
        let pair = { (index: Int) in UInt64(words[index]) << 32 | UInt64(words[index + 1]) }
        (a, b, c, d) = (pair(0), pair(2), pair(4), pair(6))
    }

    /// Parses 64 lowercase hex digits; nil for anything else.
    public init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var words: [UInt64] = []
        for start in stride(from: 0, to: 64, by: 16) {
            var word: UInt64 = 0
            for digit in digits[start..<(start + 16)] {
                guard let value = Self.value(of: digit) else { return nil }
                word = word << 4 | UInt64(value)
            }
            words.append(word)
        }
        (a, b, c, d) = (words[0], words[1], words[2], words[3])
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// The first 8 hex digits and an ellipsis, for a person: `3a7bd3e2…`.
    public var prefix: String { String(description.prefix(8)) + "…" }

    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
