import PPlus2Core
import PPlus2POSIX

/// Fetches one file from another peer into the shared folder.
///
/// The bytes go into a hidden partial file, which takes its name (or
/// `name (1).ext`... if the name is taken) only when the file is known whole:
/// - from a peer that speaks the extension (the match told a size), exactly
///   the announced size must arrive and, when a hash was told, the file's
///   SHA-256 must match it; a zero-byte file is saved. A download of a known
///   hash that breaks off keeps its partial, and picking the same content
///   again, from any peer, resumes from it (`get OFFSET`);
/// - from a plain P+2 peer, the serving peer must close cleanly (end of
///   stream, not a reset or a timeout): P+2 has no length, so that is all
///   that can be checked. Any failure removes the partial file.
public struct Downloader: Sendable {
    public let client: PeerClient
    public let folder: SharedFolder
    /// The largest file accepted; past it the download is refused or abandoned.
    public let maxSize: Int64
    /// How another thread can stop it.
    public var cancellation: DownloadCancellation?
    /// The bytes one request of a multi-source download asks for.
    public var rangeSize: Int64 = 8 << 20

    public init(client: PeerClient, folder: SharedFolder, maxSize: Int64, cancellation: DownloadCancellation? = nil) {
        self.client = client
        self.folder = folder
        self.maxSize = maxSize
        self.cancellation = cancellation
    }

    /// How a saved file was checked.
    public enum Check: Equatable, Sendable {
        /// Its SHA-256 matched the one the serving peer announced.
        case verified(SHA256Digest)
        /// Exactly the announced size arrived; the serving peer had not hashed it yet.
        case sizeOnly
        /// From a plain P+2 peer: only a clean end of stream.
        case unverified
    }

    public enum Outcome: Equatable, Sendable {
        /// Saved as `savedName` (differs from the asked name after a collision).
        case saved(savedName: String, bytes: Int64, check: Check)
        /// A plain peer sent nothing: no such file there, or an empty one. Nothing saved.
        case empty
        /// A peer that speaks the extension no longer offers the name. Nothing saved.
        case notOffered
    }

    /// What happens while a download runs, for the console.
    public enum Event: Equatable, Sendable {
        /// `bytes` of the file are in the partial (resumed bytes included), of `size` if known.
        case progress(bytes: Int64, size: Int64?)
        /// A kept partial of this content is continued from `offset`.
        case resumed(from: Int64)
        /// The download broke off; its `bytes` are kept to be resumed.
        case kept(bytes: Int64)
        /// Ranges are fetched from this many peers at once.
        case sources(Int)
        /// The file fetched from this many peers did not match its SHA-256:
        /// it is fetched again one peer at a time, each checked alone.
        case mismatch(sources: Int)
    }

    /// Downloads `match`; `report` is called with what happens.
    public func download(_ match: Search.Match, report: (Event) -> Void = { _ in }) throws(DownloadError) -> Outcome {
        guard SharedFileName.isValid(match.name) else { throw .invalidName }
        // Before the first byte: a name with no free variant is refused now, not after the transfer.
        guard folder.freeName(for: match.name) != nil else { throw .noFreeName(match.name) }
        guard let size = match.size else { return try downloadPlain(match.name, from: match.peer, report: report) }
        return try downloadExtended(match, size: size, report: report)
    }

    // MARK: Plain P+2

    private func downloadPlain(
        _ name: String,
        from peer: PeerIdentity,
        report: (Event) -> Void
    ) throws(DownloadError) -> Outcome {
        let connection = try connect(name, to: peer)
        defer { cancellation?.detach(connection) }
        let partial = try folder.createPartial()
        do throws(DownloadError) {
            var total: Int64 = 0
            let mover = SocketToFile()
            // Room for one byte past the limit: enough to tell it was passed.
            while let count = try receive(
                from: connection,
                into: partial,
                with: mover,
                room: maxSize - total + 1,
                peer: peer,
                total: total
            ) {
                total += Int64(count)
                guard total <= maxSize else { throw .tooLarge(maxSize) }
                report(.progress(bytes: total, size: nil))
            }
            if total == 0 {
                folder.discard(partial)
                return .empty
            }
            try sync(partial)
            return .saved(savedName: try folder.commit(partial, as: name), bytes: total, check: .unverified)
        } catch {
            folder.discard(partial)
            throw error
        }
    }

    // MARK: Shared steps

    /// Sends `request` to `peer`'s download port; the connection is the
    /// cancellation's until the caller detaches it.
    func connect(_ request: String, to peer: PeerIdentity) throws(DownloadError) -> TCPSocket {
        let connection: TCPSocket
        do {
            connection = try client.openDownload(request, from: peer)
        } catch {
            throw .unreachable(peer, error)
        }
        cancellation?.attach(connection)
        return connection
    }

    /// Reads the header line of an extended `get` answer (at most 512 bytes);
    /// also returns the body bytes that came with it. nil when the peer closed
    /// without a byte; `bytes` is where the download stands, for the error.
    func readGetHeader(
        from connection: TCPSocket,
        peer: PeerIdentity,
        bytes: Int64
    ) throws(DownloadError) -> (size: Int64, sha256: SHA256Digest?, body: ArraySlice<UInt8>)? {
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while !line.contains(UInt8(ascii: "\n")) {
            let count: Int
            do {
                count = try connection.receive(into: &chunk, timeout: client.timeout)
            } catch {
                throw .brokeOff(peer, bytes: bytes, error)
            }
            if count == 0 {
                if line.isEmpty { return nil }
                throw .badHeader(peer)
            }
            line += chunk[..<count]
            guard line.count <= 512 else { throw .badHeader(peer) }  // a header is under 100 bytes
        }
        let newline = line.firstIndex(of: UInt8(ascii: "\n"))!
        guard let header = Extension.parseGetHeader(line[..<newline]) else { throw .badHeader(peer) }
        return (header.size, header.sha256, line[(newline + 1)...])
    }

    /// Moves what arrived into the partial, at most `room` bytes (and 1 GiB);
    /// nil at the clean end of the stream.
    func receive(
        from connection: TCPSocket,
        into partial: PartialFile,
        with mover: SocketToFile,
        room: Int64,
        peer: PeerIdentity,
        total: Int64
    ) throws(DownloadError) -> Int? {
        do {
            let count = try mover.move(
                from: connection,
                to: partial.file,
                limit: Int(min(max(room, 1), 1 << 30)),
                timeout: client.timeout
            )
            return count == 0 ? nil : count
        } catch {
            switch error {
            case .receiving(let failure): throw .brokeOff(peer, bytes: total, failure)
            case .writing(let failure): throw .local(.writing, folder: folder.path, failure)
            }
        }
    }

    func sync(_ partial: PartialFile) throws(DownloadError) {
        do {
            try FileWriting.sync(partial.file)
        } catch {
            throw .local(.writing, folder: folder.path, error)
        }
    }
}
