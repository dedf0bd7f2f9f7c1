import PPlus2Core
import PPlus2POSIX

/// One connection of a download, from its request line to its end: the
/// request out, the extension's header line read by the `LineFramer`, the
/// body moved into the partial (`SocketToFile`: spliced where the kernel can).
/// While it is open, the download's cancellation can reset it from another
/// thread; `end()` detaches and closes it.
struct DownloadStream {
    let peer: PeerIdentity
    private let socket: TCPSocket
    private let downloader: Downloader
    private let stall: StallWatch

    /// The extension's header: the file's current size and hash, and the
    /// bytes of the body that arrived with it.
    struct Header {
        let size: Int64
        let sha256: SHA256Digest?
        let body: ArraySlice<UInt8>
    }

    /// A header is under 100 bytes; more is not a header.
    static let maxHeaderBytes = 512

    /// Connects to `peer`'s download port and sends `request`.
    init(_ request: String, to peer: PeerIdentity, downloader: Downloader) throws(DownloadError) {
        do {
            socket = try downloader.client.openDownload(request, from: peer)
        } catch {
            throw .unreachable(peer, error)
        }
        self.peer = peer
        self.downloader = downloader
        stall = StallWatch(rule: downloader.stallRule)
        downloader.cancellation?.attach(socket)
    }

    /// Detaches the stream from the cancellation and closes it.
    func end() {
        downloader.cancellation?.detach(socket)
        socket.descriptor.close()
    }

    /// Reads the header line; nil when the peer closed without a byte (it
    /// does not offer the name). `bytes` is where the download stands, for errors.
    func readHeader(at bytes: Int64) throws(DownloadError) -> Header? {
        var framer = LineFramer(maxLineBytes: Self.maxHeaderBytes, overlong: .drop)
        var chunk = [UInt8](repeating: 0, count: Self.maxHeaderBytes)
        var seen = 0
        while true {
            if stall.isStalled() { throw .stalled(peer, bytes: bytes, stall.rule) }
            let wait = stall.wait(upTo: downloader.client.timeout)
            let count: Int
            do {
                count = try socket.receive(into: &chunk, timeout: wait)
            } catch {
                if error == .timedOut(.reading) && wait < downloader.client.timeout { continue }  // judge the window
                throw .brokeOff(peer, bytes: bytes, error)
            }
            stall.moved(count)
            if count == 0 {
                if seen == 0 { return nil }
                throw .badHeader(peer)
            }
            seen += count
            for index in 0..<count {
                switch framer.take(chunk[index]) {
                case nil: continue
                case .overlong: throw .badHeader(peer)
                case .line(let line):
                    guard let header = Extension.parseGetHeader(line) else { throw .badHeader(peer) }
                    return Header(size: header.size, sha256: header.sha256, body: chunk[(index + 1)..<count])
                }
            }
            guard seen <= Self.maxHeaderBytes else { throw .badHeader(peer) }
        }
    }

    /// The rest of a small answer after its header, up to a clean close; nil
    /// if it holds more than `maxBytes` (or breaks off, or stalls).
    func readSmallBody(after start: ArraySlice<UInt8>, maxBytes: Int) -> [UInt8]? {
        var body = Array(start)
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while body.count <= maxBytes {
            guard !stall.isStalled(), let count = try? socket.receive(into: &chunk, timeout: downloader.client.timeout)
            else { return nil }
            stall.moved(count)
            if count == 0 { return body }
            body += chunk[..<count]
        }
        return nil
    }

    /// Writes bytes that came with the header at `offset` of the partial.
    func write(_ bytes: ArraySlice<UInt8>, into partial: PartialFile, at offset: Int64) throws(DownloadError) {
        guard !bytes.isEmpty else { return }
        do {
            try bytes.withBytes { raw throws(IOFailure) in try FileWriting.writeAll(partial.file, raw, at: offset) }
        } catch {
            throw .local(.writing, folder: downloader.folder.path, error)
        }
    }

    /// Moves what arrived into the partial, at most `room` bytes (and 1 GiB);
    /// nil at the clean end of the stream. `total` is where the download
    /// stands, for errors. Silent for the client's timeout: broken off; under
    /// the stall rule's floor for its window: stalled.
    func receive(
        into partial: PartialFile,
        with mover: SocketToFile,
        room: Int64,
        total: Int64
    ) throws(DownloadError) -> Int? {
        while true {
            if stall.isStalled() { throw .stalled(peer, bytes: total, stall.rule) }
            let wait = stall.wait(upTo: downloader.client.timeout)
            do {
                let count = try mover.move(
                    from: socket,
                    to: partial.file,
                    limit: Int(min(max(room, 1), 1 << 30)),
                    timeout: wait
                )
                stall.moved(count)
                return count == 0 ? nil : count
            } catch {
                switch error {
                case .receiving(.timedOut) where wait < downloader.client.timeout:
                    continue  // the stall window ended first: judge it
                case .receiving(let failure): throw .brokeOff(peer, bytes: total, failure)
                case .writing(let failure): throw .local(.writing, folder: downloader.folder.path, failure)
                }
            }
        }
    }
}
