// pplus2-sha256: prints the SHA-256 of each file, as `sha256sum` does, with
// pplus2's own implementation: the CPU's SHA extensions where it has them
// (`--portable`: the Swift block function). scripts/bench times it against
// OpenSSL and coreutils; anyone can check a download with it.
//
//   pplus2-sha256 [--portable] FILE...
//   pplus2-sha256 [--portable] --speed MIB     hashes an in-memory buffer, prints GB/s
//
// Files are read with pread, not mmap: a file truncated while mapped would
// kill the reader with SIGBUS, and the peer hashes files other programs own.

import PPlus2Core
import PPlus2POSIX

var arguments = Array(CommandLine.arguments.dropFirst())
let portable = arguments.first == "--portable"
if portable { arguments.removeFirst() }
let blockFunction = portable ? SHA256.portable : (HardwareSHA256.blockFunction ?? SHA256.portable)

if arguments.count == 2, arguments[0] == "--speed", let mebibytes = Int(arguments[1]), mebibytes > 0 {
    let buffer = [UInt8](repeating: 0x5A, count: mebibytes << 20)
    let started = MonotonicClock.now
    var hasher = SHA256(blockFunction: blockFunction)
    hasher.update(buffer)
    let digest = hasher.finish()
    let seconds = MonotonicClock.now - started
    StandardStreams.write("\(Double(buffer.count) / seconds / 1e9) GB/s \(digest)\n", to: 1)
    ProcessControl.exit(0)
}
guard !arguments.isEmpty, !arguments.contains(where: { $0.hasPrefix("-") }) else {
    StandardStreams.write("usage: pplus2-sha256 [--portable] FILE...\n", to: 2)
    ProcessControl.exit(2)
}
var status: CInt = 0
var buffer = [UInt8](repeating: 0, count: 1 << 20)
for path in arguments {
    do {
        let file = try FileReading.open(path)
        var hasher = SHA256(blockFunction: blockFunction)
        var offset: Int64 = 0
        while true {
            let count = try buffer.withMutableBytes { bytes throws(IOFailure) in
                try FileReading.read(file, into: bytes, at: offset)
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += Int64(count)
        }
        StandardStreams.write("\(hasher.finish())  \(path)\n", to: 1)
    } catch {
        StandardStreams.write("pplus2-sha256: \(path): \(error.reason)\n", to: 2)
        status = 1
    }
}
ProcessControl.exit(status)
