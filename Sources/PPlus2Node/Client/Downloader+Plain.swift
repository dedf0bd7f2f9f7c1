import PPlus2Core
import PPlus2POSIX

// A plain P+2 download: no header, no length. The file is the stream up to
// the serving peer's clean close; a reset or a timeout is a failure, and
// nothing of it is kept (there is no content to resume it as).

extension Downloader {
    func downloadPlain(
        _ name: String,
        from peer: PeerIdentity,
        report: (Event) -> Void
    ) throws(DownloadError) -> Outcome {
        let stream = try DownloadStream(name, to: peer, downloader: self)
        defer { stream.end() }
        let partial = try folder.createPartial()
        do throws(DownloadError) {
            var total: Int64 = 0
            let mover = SocketToFile()
            // Room for one byte past the limit: enough to tell it was passed.
            while let count = try stream.receive(into: partial, with: mover, room: maxSize - total + 1, total: total) {
                total += Int64(count)
                guard total <= maxSize else { throw .tooLarge(maxSize) }
                report(.progress(bytes: total, size: nil))
            }
            if total == 0 {
                folder.discard(partial)
                return .empty
            }
            try sync(partial)
            try checkNotCancelled(bytes: total, from: peer)
            return .saved(savedName: try folder.commit(partial, as: name), bytes: total, check: .unverified)
        } catch {
            folder.discard(partial)
            throw error
        }
    }
}
