// A libFuzzer target for every parser that reads network bytes.
//
//   scripts/fuzz.sh [SECONDS]     builds with -sanitize=fuzzer and runs it
//
// Built normally (`swift build`), it is a replay tool: `pplus2-fuzz FILE...`
// runs each file through the same checks, to reproduce a crash libFuzzer found.
// Each check is a precondition: a violated invariant is a crash, which is
// what libFuzzer reports.

import PPlus2Core

#if canImport(Glibc)
import Glibc
#endif

/// Runs one input through every network parser and checks its invariants.
func check(_ bytes: [UInt8]) {
    checkPlainWire(bytes)
    checkExtension(bytes)
    checkDiscovery(bytes)
}

/// The plain P+2 wire: request lines, identities, names, answers.
func checkPlainWire(_ bytes: [UInt8]) {
    // Request line: streamed in chunks of a size taken from the input itself.
    let chunk = Int(bytes.first ?? 1) % 17 + 1
    var reader = RequestLineReader()
    var outcome = RequestLineReader.Outcome.needMore
    var offset = 0
    while offset < bytes.count && outcome == .needMore {
        let end = min(bytes.count, offset + chunk)
        outcome = reader.append(bytes[offset..<end])
        offset = end
    }
    if outcome == .needMore { outcome = reader.finish() }
    precondition(reader.bufferedCount <= RequestLineReader.maxLineBytes + 1)
    if case .line(let text) = outcome {
        precondition(text.utf8.count <= RequestLineReader.maxLineBytes && !text.utf8.contains(0))
        precondition(!text.utf8.contains(0x0A))
    }

    // Identity: accepted only in its canonical form.
    if let identity = PeerIdentity(utf8: bytes[...]) {
        precondition(Array(identity.description.utf8) == bytes)
        precondition(identity.address.isUnicastDestination && (1...65533).contains(identity.port))
    }

    // Name rules.
    if let name = SharedFileName.validated(utf8: bytes) {
        let utf8 = Array(name.utf8)
        precondition(utf8 == bytes && !utf8.isEmpty && utf8.count <= 255 && utf8[0] != 0x2E)
        precondition(!utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x2F })
    }

    // Answers.
    let peers = PeerListAnswer(parsing: bytes)
    precondition(peers.peers.count <= PeerListAnswer.maxLines && Set(peers.peers).count == peers.peers.count)
    precondition(peers.peers.allSatisfy { PeerIdentity($0.description) == $0 })
    let names = QueryAnswer(parsing: bytes)
    precondition(names.names.count <= QueryAnswer.maxLines && names.names.allSatisfy(SharedFileName.isValid))
}

/// The extension: requests, get headers and find answers accepted only in the
/// form we would write; the hash cache re-encodes to itself.
func checkExtension(_ bytes: [UInt8]) {
    if let text = String(validating: bytes, as: UTF8.self), let request = Extension.parse(text) {
        switch request {
        case .find(let query): precondition(Extension.findRequest(query) == text)
        case .get(let offset, let length, let sha256, let name):
            precondition(Extension.getRequest(offset: offset, length: length, sha256: sha256, name: name) == text)
        case .pieces(let sha256, let name): precondition(Extension.piecesRequest(sha256: sha256, name: name) == text)
        }
    }
    // A piece list is read only as written, for the size it names.
    for size in [Int64(bytes.count), 5 << 20, 3 << 30] {
        if let pieces = Extension.parsePieceLines(bytes, size: size) {
            let written = Extension.pieceLines(pieces).map { $0 + "\n" }.joined()
            precondition(Array(written.utf8) == bytes && bytes.count <= Extension.maxPieceLinesBytes(forSize: size))
        }
    }
    if let header = Extension.parseGetHeader(bytes) {
        precondition(Array(Extension.getHeader(size: header.size, sha256: header.sha256).utf8) == bytes)
    }
    if let answer = QueryAnswer(parsingExtended: bytes) {
        precondition(answer.entries.allSatisfy { SharedPath.isValid($0.name) && ($0.size ?? -1) >= 0 })
    }
    if let entries = try? HashCacheFormat.decode(bytes) {
        precondition((try? HashCacheFormat.decode(HashCacheFormat.encode(entries))) == entries)
    }
}

/// DNS (LAN discovery): refused, or re-encoded to the same message; the state
/// machines take it within their bounds.
func checkDiscovery(_ bytes: [UInt8]) {
    if let message = try? DNSMessage(decoding: bytes) {
        precondition((try? DNSMessage(decoding: message.encoded())) == message)
        var responder = MulticastDNSResponder(
            identity: PeerIdentity("10.0.0.8:5000")!,
            name: "alice",
            ttl: 120,
            now: 0,
            seed: 2
        )
        _ = responder.due(now: 5)
        _ = responder.handle(message, from: IPv4Address(10, 0, 0, 9), port: 5353, now: 5)
        precondition(responder.due(now: 10).allSatisfy { $0.message.encoded().count <= DNSMessage.maxBytes })
        var browser = MulticastDNSBrowser(now: 0, seed: 3)
        _ = browser.handle(message, now: 1)
        _ = browser.due(now: 2)
        precondition(browser.trackedCount <= MulticastDNSBrowser.maxInstances)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

#if !FUZZING
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                print("cannot open \(path)")
                exit(2)
            }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count <= 0 { break }
                bytes += buffer[..<count]
            }
            fclose(file)
            check(bytes)
            print("\(path): ok")
        }
    }
}
#endif
