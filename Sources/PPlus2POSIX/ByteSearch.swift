import CPPlus2Shims

/// Substring search over raw bytes, for scanning many file names at once: the
/// shim's `cpplus2_find` (SIMD on the needle's first and last bytes, glibc's
/// `memmem` past a budget of candidates: linear in the worst case).
public enum ByteSearch {
    /// The offset of the first occurrence of `needle` in `haystack` at or after
    /// `start`, or nil.
    public static func firstOffset(
        of needle: UnsafeRawBufferPointer,
        in haystack: UnsafeRawBufferPointer,
        from start: Int
    ) -> Int? {
        firstOffset(of: needle, in: haystack, from: start, with: cpplus2_find)
    }

    /// The same as a CPU without AVX2 searches (for the tests).
    static func firstOffsetWithoutAVX2(
        of needle: UnsafeRawBufferPointer,
        in haystack: UnsafeRawBufferPointer,
        from start: Int
    ) -> Int? {
        firstOffset(of: needle, in: haystack, from: start, with: cpplus2_find_without_avx2)
    }

    private static func firstOffset(
        of needle: UnsafeRawBufferPointer,
        in haystack: UnsafeRawBufferPointer,
        from start: Int,
        with find: (UnsafeRawPointer?, UInt, UnsafeRawPointer?, UInt) -> UnsafeRawPointer?
    ) -> Int? {
        guard start < haystack.count, let base = haystack.baseAddress, let pattern = needle.baseAddress else {
            return nil
        }
        guard let found = find(base + start, UInt(haystack.count - start), pattern, UInt(needle.count))
        else { return nil }
        return base.distance(to: found)
    }
}
