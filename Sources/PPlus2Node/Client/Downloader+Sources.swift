import PPlus2Core
import PPlus2POSIX

// One file from several peers at once. When copies of one content (the same
// size and SHA-256) sit on several peers, the file is split into ranges of
// `rangeSize` (8 MiB), fetched with the extension's `get OFFSET LENGTH` from up to
// `maxSources` of those peers in parallel (`RangePlan`: a faster peer takes
// more ranges, a failed peer's range goes to the others, a peer that failed
// twice is dropped), each range spliced in place into the one hidden partial.
// The whole file's SHA-256 is checked before it takes its name; a mismatch
// (some peer sent wrong bytes) says so and falls back to one peer at a time,
// each checked alone, so the one that lies is found out and not used again.
// A download that breaks off keeps what is known written from the start, to
// be resumed like any other (the holes after it are fetched again).

extension Downloader {
    /// The most peers one download fetches from at once.
    public static let maxSources = 4
    /// Downloads `copies[0]`, from every peer among `copies` that offers the
    /// same content at once where that helps (several such peers, a file of
    /// more than two ranges); else as `download(_:report:)`.
    public func download(copies: [Search.Match], report: (Event) -> Void = { _ in }) throws(DownloadError) -> Outcome {
        guard let first = copies.first else { throw .invalidName }
        var peers = Set<PeerIdentity>()
        let sources = copies.filter { $0.hasSameContent(as: first) && peers.insert($0.peer).inserted }
            .prefix(Self.maxSources)
        guard sources.count > 1, let size = first.size, let sha256 = first.sha256, size > 2 * rangeSize else {
            return try download(first, report: report)
        }
        guard SharedFileName.isValid(first.name) else { throw .invalidName }
        guard folder.freeName(for: first.name) != nil else { throw .noFreeName(first.name) }
        guard size <= maxSize else { throw .tooLarge(maxSize) }
        let partial = try startPartial(first, size: size, report: report)
        do {
            try partial.file.setAppending(false)  // a resumed partial is open for appending; ranges go at offsets
        } catch {
            folder.setAside(partial)
            throw .local(.writing, folder: folder.path, error)
        }
        let plan = RangePlan(from: partial.resumedFrom, size: size, rangeSize: rangeSize, sources: sources.count)
        // Hashes the file from its start as the bytes known written grow, so the check waits only for the tail.
        let follower = try? HashFollower(file: partial.file, written: partial.resumedFrom)
        defer {
            follower?.stop()  // a download that failed: the follower ends here, joined, never left behind
            follower?.join()
        }
        do throws(DownloadError) {
            try fetchRanges(
                Array(sources),
                plan: plan,
                follower: follower,
                size: size,
                sha256: sha256,
                into: partial,
                report: report
            )
            var buffer: [UInt8] = []
            guard let digest = follower?.finish() ?? FileDigest.sha256(of: partial.file, buffer: &buffer)?.digest else {
                throw .local(.verifying, folder: folder.path, .wroteNothing)
            }
            guard digest == sha256 else {
                folder.discard(partial)
                report(.mismatch(sources: sources.count))
                return try downloadOneByOne(Array(sources), report: report)
            }
            try sync(partial)
            return .saved(savedName: try folder.commit(partial, as: first.name), bytes: size, check: .verified(sha256))
        } catch {
            keepWhatIsWritten(partial, upTo: plan.contiguousEnd, error: error, report: report)
            throw error
        }
    }

    /// After a mismatch: each source alone, checked alone, until one verifies
    /// (a peer whose bytes do not match is not asked again); the last one's
    /// failure if none does.
    private func downloadOneByOne(_ sources: [Search.Match], report: (Event) -> Void) throws(DownloadError) -> Outcome {
        for source in sources.dropLast() {
            if let outcome = try? download(source, report: report) { return outcome }
        }
        return try download(sources[sources.count - 1], report: report)
    }

    /// A broken-off multi-source partial keeps its bytes up to the first hole.
    private func keepWhatIsWritten(
        _ partial: PartialFile,
        upTo end: Int64,
        error: DownloadError,
        report: (Event) -> Void
    ) {
        guard error.leavesAResumablePartial, end > 0, (try? FileWriting.truncate(partial.file, to: end)) != nil,
            folder.setAside(partial)
        else {
            return folder.discard(partial)
        }
        report(.kept(bytes: end))
    }

    /// Runs one worker a source until every range is in or every source gave
    /// up; reports the progress from this thread meanwhile.
    private func fetchRanges(
        _ sources: [Search.Match],
        plan: RangePlan,
        follower: HashFollower?,
        size: Int64,
        sha256: SHA256Digest,
        into partial: PartialFile,
        report: (Event) -> Void
    ) throws(DownloadError) {
        let failures = Locked<[DownloadError]>([])
        var threads: [ThreadHandle] = []
        for source in sources {
            let thread = ThreadHandle()
            do {
                try thread.start(name: "range-fetch") {
                    var failed = 0
                    while failed < 2, let range = plan.next() {
                        do throws(DownloadError) {
                            try fetch(range, of: size, sha256: sha256, from: source, into: partial) { written in
                                plan.wrote(range, upTo: written)
                            }
                            plan.finished(range)
                        } catch {
                            plan.failed(range)
                            failures.withLock { $0.append(error) }
                            failed += 1
                        }
                    }
                    plan.sourceEnded()
                }
                threads.append(thread)
            } catch {
                plan.sourceEnded()
            }
        }
        report(.sources(threads.count))
        while true {
            let (bytes, ended) = plan.progress(waitingUpTo: 0.1)
            follower?.advance(to: plan.writtenEnd)
            report(.progress(bytes: partial.resumedFrom + bytes, size: size))
            if ended { break }
        }
        for thread in threads { thread.join() }
        guard plan.isComplete else {
            throw failures.withLock { $0.last }
                ?? .brokeOff(sources[0].peer, bytes: plan.contiguousEnd, .timedOut(.reading))
        }
    }

    /// One range from one source, spliced into the partial at its offset.
    private func fetch(
        _ range: Range<Int64>,
        of size: Int64,
        sha256: SHA256Digest,
        from source: Search.Match,
        into partial: PartialFile,
        progress: (Int64) -> Void
    ) throws(DownloadError) {
        let peer = source.peer
        let request = Extension.getRequest(
            offset: range.lowerBound,
            length: Int64(range.count),
            sha256: sha256,
            name: source.name
        )
        let connection = try connect(request, to: peer)
        defer { cancellation?.detach(connection) }
        var written =
            range.lowerBound
            + (try readRangeHeader(connection, size: size, sha256: sha256, at: range, partial: partial, peer: peer))
        let mover = SocketToFile(writingFrom: written, positioned: true)
        while written < range.upperBound {
            let moved = try receive(
                from: connection,
                into: partial,
                with: mover,
                room: range.upperBound - written,
                peer: peer,
                total: written
            )
            guard let count = moved else { throw .cutShort(peer, bytes: written, size: size) }
            written += Int64(count)
            progress(written)
        }
    }

    /// Reads the `get` header of a range and writes the body bytes that came
    /// with it at the range's start; returns how many.
    private func readRangeHeader(
        _ connection: TCPSocket,
        size: Int64,
        sha256: SHA256Digest,
        at range: Range<Int64>,
        partial: PartialFile,
        peer: PeerIdentity
    ) throws(DownloadError) -> Int64 {
        // Closed without a byte: the peer no longer offers it, a failure of this range.
        guard let header = try readGetHeader(from: connection, peer: peer, bytes: range.lowerBound) else {
            throw .badHeader(peer)
        }
        guard header.size == size, header.sha256 == nil || header.sha256 == sha256 else {
            throw .changed(peer, size: header.size, sha256: header.sha256)
        }
        let body = Array(header.body.prefix(range.count))
        do {
            try body.withBytes { bytes throws(IOFailure) in
                try FileWriting.writeAll(partial.file, bytes, at: range.lowerBound)
            }
        } catch {
            throw .local(.writing, folder: folder.path, error)
        }
        return Int64(body.count)
    }
}
