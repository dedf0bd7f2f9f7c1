import PPlus2Core
import Testing

/// The portable SHA-256 against the published test vectors (FIPS 180-4 and
/// NIST's examples), fed whole and in chunks of every size.
@Suite struct SHA256Tests {
    static let vectors: [(input: [UInt8], digest: String)] = [
        ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            Array(
                ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                    + "mnopqrstnopqrstu").utf8
            ),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ]

    @Test func publishedVectors() {
        for vector in Self.vectors {
            #expect(SHA256.hash(vector.input).description == vector.digest)
        }
    }

    @Test func oneMillionA() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        #expect(hasher.finish().description == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func chunksOfEverySizeGiveTheSameDigest() {
        let input = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = SHA256.hash(input)
        for chunk in 1...130 {
            var hasher = SHA256()
            var start = 0
            while start < input.count {
                hasher.update(Array(input[start..<min(start + chunk, input.count)]))
                start += chunk
            }
            #expect(hasher.finish() == whole, "chunk \(chunk)")
        }
    }

    @Test func hexRoundTripsAndRefusesAnythingElse() {
        let digest = SHA256.hash(Array("abc".utf8))
        #expect(SHA256Digest(hex: digest.description) == digest)
        #expect(SHA256Digest(hex: String(digest.description.dropLast())) == nil)
        #expect(SHA256Digest(hex: digest.description.uppercased()) == nil)  // sha256sum prints lowercase
        #expect(SHA256Digest(hex: String(repeating: "g", count: 64)) == nil)
        #expect(SHA256Digest(hex: "-") == nil)
    }
}
