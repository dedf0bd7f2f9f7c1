/// `withUnsafeBytes` and `withUnsafeMutableBytes` that keep the body's typed
/// error: the standard library's versions rethrow `any Error`, so a body that
/// throws `IOFailure` would come out untyped. The one place the workaround
/// (carry the error out in a `Result`) is written.
extension Array where Element == UInt8 {
    @inlinable
    public func withBytes<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try withUnsafeBytes { bytes in Result { () throws(E) in try body(bytes) } }.get()
    }

    @inlinable
    public mutating func withMutableBytes<T, E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> T
    ) throws(E) -> T {
        try withUnsafeMutableBytes { bytes in Result { () throws(E) in try body(bytes) } }.get()
    }
}

extension ArraySlice where Element == UInt8 {
    @inlinable
    public func withBytes<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try withUnsafeBytes { bytes in Result { () throws(E) in try body(bytes) } }.get()
    }
}
