import CPPlus2Shims

/// The SHA-256 block function of the CPU's SHA extensions (x86 SHA-NI), in the
/// C shim, when this CPU has them: chosen once, at run time.
///
/// Its signature is `SHA256.BlockFunction` of PPlus2Core (this module does not
/// import the core; the peer passes one to the other).
public enum HardwareSHA256 {
    /// Whether this CPU has the SHA extensions.
    public static let isAvailable = cpplus2_sha256_hardware_available() == 1

    /// The accelerated block function, or nil where the CPU lacks it.
    public static let blockFunction: BlockFunction? = isAvailable ? compress : nil

    public typealias BlockFunction = @Sendable (UnsafeMutablePointer<UInt32>, UnsafeRawPointer, Int) -> Void

    private static let compress: BlockFunction = { state, blocks, count in
        cpplus2_sha256_blocks_hardware(state, blocks, UInt(count))
    }
}
