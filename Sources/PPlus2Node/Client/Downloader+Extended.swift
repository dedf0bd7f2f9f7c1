import PPlus2Core
import PPlus2POSIX

// The extension's download: `\u{1}get OFFSET - SHA256 NAME`, a header with the
// file's current size and hash, then exactly the bytes from OFFSET to the end.

extension Downloader {
    func downloadExtended(
        _ match: Search.Match,
        size: Int64,
        report: (Event) -> Void
    ) throws(DownloadError) -> Outcome {
        guard size <= maxSize else { throw .tooLarge(maxSize) }
        let partial = try startPartial(match, size: size, report: report)
        do throws(DownloadError) {
            guard let check = try fetch(match, size: size, into: partial, report: report) else {
                folder.setAside(partial)  // what a resume brought stays for another peer
                return .notOffered
            }
            try sync(partial)
            return .saved(savedName: try folder.commit(partial, as: match.name), bytes: size, check: check)
        } catch {
            if error.leavesAResumablePartial, folder.setAside(partial) {
                report(.kept(bytes: (try? partial.file.status().size) ?? 0))
            } else {
                folder.discard(partial)
            }
            throw error
        }
    }

    /// The kept partial of this content if there is one, else a new partial;
    /// refused when the rest does not fit in the folder's free space.
    func startPartial(
        _ match: Search.Match,
        size: Int64,
        report: (Event) -> Void
    ) throws(DownloadError) -> PartialFile {
        let partial: PartialFile
        if let content = match.sha256, let resumed = folder.resumePartial(content: content, size: size) {
            partial = resumed
        } else {
            partial = try folder.createPartial(content: match.sha256)
        }
        if partial.resumedFrom > 0 { report(.resumed(from: partial.resumedFrom)) }
        let needed = size - partial.resumedFrom
        if let free = try? folder.directory.freeBytes(), free < needed {
            folder.setAside(partial)
            throw .noSpace(needed: needed, free: free)
        }
        return partial
    }

    /// Asks for the rest of the file, receives it and checks it. nil when the
    /// peer answered nothing: it does not offer the name (any more).
    private func fetch(
        _ match: Search.Match,
        size: Int64,
        into partial: PartialFile,
        report: (Event) -> Void
    ) throws(DownloadError) -> Check? {
        let peer = match.peer
        let request = Extension.getRequest(
            offset: partial.resumedFrom,
            length: nil,
            sha256: match.sha256,
            name: match.name
        )
        let connection = try connect(request, to: peer)
        defer { cancellation?.detach(connection) }
        guard let header = try readHeader(from: connection, into: partial, peer: peer) else { return nil }
        // The version listed, or nothing: another size or hash is another file.
        if header.size != size || (match.sha256 != nil && header.sha256 != nil && header.sha256 != match.sha256) {
            throw .changed(peer, size: header.size, sha256: header.sha256)
        }
        guard let expected = match.sha256 ?? header.sha256 else {
            try receiveBody(
                connection,
                into: partial,
                size: size,
                from: header.written,
                follower: nil,
                peer: peer,
                report: report
            )
            return .sizeOnly
        }
        let follower = try? HashFollower(file: partial.file, written: header.written)
        defer {
            follower?.stop()  // a download that failed: the follower ends here, joined, never left behind
            follower?.join()
        }
        try receiveBody(
            connection,
            into: partial,
            size: size,
            from: header.written,
            follower: follower,
            peer: peer,
            report: report
        )
        let actual = follower?.finish() ?? hashWhole(partial)
        guard let actual else { throw .local(.verifying, folder: folder.path, .wroteNothing) }
        guard actual == expected else { throw .hashMismatch(peer, expected: expected, actual: actual) }
        return .verified(actual)
    }

    /// Reads the `get` header line. Bytes of the body that came with it are
    /// written to the partial. nil when the peer closed without a byte.
    private func readHeader(
        from connection: TCPSocket,
        into partial: PartialFile,
        peer: PeerIdentity
    ) throws(DownloadError) -> (size: Int64, sha256: SHA256Digest?, written: Int64)? {
        guard let header = try readGetHeader(from: connection, peer: peer, bytes: partial.resumedFrom) else {
            return nil
        }
        let body = header.body
        guard partial.resumedFrom + Int64(body.count) <= header.size else { throw .tooLong(peer, size: header.size) }
        do {
            try Array(body).withBytes { bytes throws(IOFailure) in try FileWriting.writeAll(partial.file, bytes) }
        } catch {
            throw .local(.writing, folder: folder.path, error)
        }
        return (header.size, header.sha256, partial.resumedFrom + Int64(body.count))
    }

    /// Receives the body up to exactly `size` bytes in the file, then checks
    /// the peer ends the stream cleanly there.
    private func receiveBody(
        _ connection: TCPSocket,
        into partial: PartialFile,
        size: Int64,
        from start: Int64,
        follower: HashFollower?,
        peer: PeerIdentity,
        report: (Event) -> Void
    ) throws(DownloadError) {
        let mover = SocketToFile(writingFrom: start)
        var written = start
        report(.progress(bytes: written, size: size))
        while written < size {
            let room = size - written
            let moved = try receive(
                from: connection,
                into: partial,
                with: mover,
                room: room,
                peer: peer,
                total: written
            )
            guard let count = moved else { throw .cutShort(peer, bytes: written, size: size) }
            written += Int64(count)
            follower?.advance(to: written)
            report(.progress(bytes: written, size: size))
        }
        // The end: a clean close. A byte more is a lie; a reset says the file changed there.
        if try receive(from: connection, into: partial, with: mover, room: 1, peer: peer, total: written) != nil {
            throw .tooLong(peer, size: size)
        }
    }

    /// The SHA-256 of the whole partial, read back (when no follower could start).
    private func hashWhole(_ partial: PartialFile) -> SHA256Digest? {
        var buffer: [UInt8] = []
        return FileDigest.sha256(of: partial.file, buffer: &buffer)?.digest
    }
}
