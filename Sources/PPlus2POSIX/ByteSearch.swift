import CPPlus2Shims

/// Substring search over raw bytes with glibc's `memmem` (vectorised), for
/// scanning many file names at once.
public enum ByteSearch {
    /// The offset of the first occurrence of `needle` in `haystack` at or after
    /// `start`, or nil.
    public static func firstOffset(
        of needle: UnsafeRawBufferPointer,
        in haystack: UnsafeRawBufferPointer,
        from start: Int
    ) -> Int? {
        guard start < haystack.count, let base = haystack.baseAddress, let pattern = needle.baseAddress else {
            return nil
        }
        guard let found = cpplus2_memmem(base + start, UInt(haystack.count - start), pattern, UInt(needle.count))
        else { return nil }
        return base.distance(to: found)
    }
}
