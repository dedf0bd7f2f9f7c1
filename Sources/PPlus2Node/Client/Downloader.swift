import PPlus2Core
import PPlus2POSIX

/// Fetches one file from another peer into the shared folder.
///
/// The bytes go into a hidden partial file; only when the serving peer has
/// closed cleanly (end of stream, not a reset or a timeout) is the file synced
/// and renamed to its name, or to `name (1).ext`... if the name is taken. Any
/// failure removes the partial file, so the final name only ever holds a
/// complete file.
public struct Downloader: Sendable {
    public let client: PeerClient
    public let folder: SharedFolder
    /// The largest answer accepted; past it the download is abandoned.
    public let maxSize: Int64

    public init(client: PeerClient, folder: SharedFolder, maxSize: Int64) {
        self.client = client
        self.folder = folder
        self.maxSize = maxSize
    }

    public enum Outcome: Equatable, Sendable {
        /// Saved as `savedName` (differs from the asked name after a collision).
        case saved(savedName: String, bytes: Int64)
        /// The peer sent nothing: no such file there, or an empty one. Nothing saved.
        case empty
    }

    /// Downloads `name` from `peer`. `progress` is called with the byte count
    /// after each block received.
    public func download(
        _ name: String,
        from peer: PeerIdentity,
        progress: (Int64) -> Void = { _ in }
    ) throws(DownloadError) -> Outcome {
        guard SharedFileName.isValid(name) else { throw .invalidName }
        let connection: TCPSocket
        do {
            connection = try client.openDownload(name, from: peer)
        } catch {
            throw .unreachable(peer, error)
        }
        let partial = try folder.createPartial()
        do throws(DownloadError) {
            let total = try receive(from: connection, into: partial, peer: peer, progress: progress)
            if total == 0 {
                folder.discard(partial)
                return .empty
            }
            do {
                try FileWriting.sync(partial.file)
            } catch {
                throw .local(.writing, folder: folder.path, error)
            }
            return .saved(savedName: try folder.commit(partial, as: name), bytes: total)
        } catch {
            folder.discard(partial)
            throw error
        }
    }

    private func receive(
        from connection: TCPSocket,
        into partial: PartialFile,
        peer: PeerIdentity,
        progress: (Int64) -> Void
    ) throws(DownloadError) -> Int64 {
        let mover = SocketToFile()
        var total: Int64 = 0
        while true {
            // Ask for at most one byte past the limit: enough to tell it was passed.
            let room = Int(min(maxSize - total + 1, 1 << 30))
            let count: Int
            do {
                count = try mover.move(from: connection, to: partial.file, limit: room, timeout: client.timeout)
            } catch {
                switch error {
                case .receiving(let failure):
                    throw .brokeOff(peer, bytes: total, failure)
                case .writing(let failure):
                    throw .local(.writing, folder: folder.path, failure)
                }
            }
            if count == 0 { return total }  // the clean end of the file
            total += Int64(count)
            guard total <= maxSize else { throw .tooLarge(maxSize) }
            progress(total)
        }
    }
}
