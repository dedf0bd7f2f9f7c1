import Foundation
import PPlus2Core
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// The accelerated block function against the portable one, and both against
/// coreutils' `sha256sum`, on random inputs of every length up to 3000 bytes.
@Suite struct HardwareSHA256Tests {
    private static let maxLength = 3000

    @Test(.enabled(if: HardwareSHA256.isAvailable, "this CPU has no SHA extensions"))
    func agreesWithThePortableFunctionOnEveryLength() throws {
        let accelerated = try #require(HardwareSHA256.blockFunction)
        let input = randomBytes(Self.maxLength, seed: 11)
        for length in 0...Self.maxLength {
            let slice = input[..<length]
            #expect(SHA256.hash(slice, blockFunction: accelerated) == SHA256.hash(slice), "length \(length)")
        }
        // Long, and fed in odd chunks.
        let long = randomBytes(3 << 20, seed: 12)
        var hasher = SHA256(blockFunction: accelerated)
        var start = 0
        var chunk = 1
        while start < long.count {
            hasher.update(Array(long[start..<min(start + chunk, long.count)]))
            start += chunk
            chunk = chunk * 3 % 100_003 + 1
        }
        #expect(hasher.finish() == SHA256.hash(long))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum")))
    func agreesWithSHA256SumOnEveryLength() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let input = randomBytes(Self.maxLength, seed: 13)
        let lengths = Array(0...Self.maxLength)
        for length in lengths { try writeFile(temporary.file("\(length)"), Array(input[..<length])) }
        // One sha256sum over every file: `DIGEST  NAME` lines in argument order.
        let output = try runCommand("/usr/bin/sha256sum", lengths.map { temporary.file("\($0)") })
        let digests = output.split(separator: "\n").map { $0.prefix(64) }
        #expect(digests.count == lengths.count)
        let blockFunction = HardwareSHA256.blockFunction ?? SHA256.portable
        for (length, expected) in zip(lengths, digests) {
            #expect(SHA256.hash(input[..<length]).description == expected, "length \(length)")
            #expect(SHA256.hash(input[..<length], blockFunction: blockFunction).description == expected)
        }
    }
}
