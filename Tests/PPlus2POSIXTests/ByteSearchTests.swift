import PPlus2TestSupport
import Testing

@testable import PPlus2POSIX

/// The index's substring search against the plainest one, on the inputs that
/// break vectorised searches: every length around the vector widths, every
/// start, a tiny alphabet (so candidates abound), and the worst case that
/// spends the comparison budget.
@Suite struct ByteSearchTests {
    static func naive(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard start < haystack.count else { return nil }
        if needle.isEmpty { return start }
        guard haystack.count - start >= needle.count else { return nil }
        return (start...(haystack.count - needle.count)).first {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }

    /// Both ways the shim searches (AVX2 where the CPU has it, SSE2), which must agree.
    static func search(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        let (wide, narrow) = haystack.withUnsafeBytes { haystack in
            needle.withUnsafeBytes {
                (
                    ByteSearch.firstOffset(of: $0, in: haystack, from: start),
                    ByteSearch.firstOffsetWithoutAVX2(of: $0, in: haystack, from: start)
                )
            }
        }
        #expect(wide == narrow)
        return wide
    }

    @Test func agreesWithANaiveSearch() {
        var random = SeededGenerator(seed: 17)
        let alphabet: [UInt8] = Array("ab\n".utf8)
        for _ in 0..<4000 {
            let haystack = (0..<Int(random.next() % 140)).map { _ in alphabet[Int(random.next() % 3)] }
            let needle = (0..<Int(random.next() % 9)).map { _ in alphabet[Int(random.next() % 3)] }
            let start = haystack.isEmpty ? 0 : Int(random.next() % UInt64(haystack.count))
            #expect(Self.search(needle, in: haystack, from: start) == Self.naive(needle, in: haystack, from: start))
        }
    }

    /// A needle of one repeated byte with another in its middle, in a long
    /// run of that byte: every position is a candidate that fails late. The
    /// budget runs out and memmem finishes: still the right answer.
    @Test func candidatesEverywhereStillFindTheRightPlace() {
        let a = UInt8(ascii: "a")
        let run = [UInt8](repeating: a, count: 200_000)
        let needle = [UInt8](repeating: a, count: 100) + [UInt8(ascii: "b")] + [UInt8](repeating: a, count: 100)
        #expect(Self.search(needle, in: run, from: 0) == nil)
        #expect(Self.search(needle, in: run + needle + run.prefix(10), from: 3) == 200_000)
        #expect(Self.search(Array(needle.prefix(100)), in: run, from: 7) == 7)
    }
}
