import PPlus2Core
import PPlus2POSIX

// Stage 3 of a download: the ranges of the file, each one `\u{1}get OFFSET
// LENGTH SHA256 NAME` on a connection of its own, the body moved into the
// partial at its offset and, with the download's piece list, each piece
// checked as it lands (`PieceCheck`): a bad piece is fetched again from
// another source and its sender recorded as a liar. One thread a source
// takes ranges from the plan until none is left (a faster source takes more
// of them; one not yet proven honest, one piece: the last still to fetch); a
// range whose source fails goes back to the others with what was written
// kept; a source that failed twice (once, when it is the only one) stops asking.

extension Downloader {
    /// What the ranges told beside their bytes.
    struct Fetched {
        /// The SHA-256 the first header announced, if any.
        var announced: SHA256Digest?
    }

    /// Fetches every range of `plan` from `sources`, reporting progress from
    /// this thread meanwhile. nil when the only source answered nothing: it no
    /// longer offers the file.
    func fetch(
        _ plan: RangePlan,
        from sources: [Search.Match],
        size: Int64,
        into partial: PartialFile,
        pieces: CheckedPieces?,
        follower: HashFollower?,
        report: (Event) -> Void
    ) throws(DownloadError) -> Fetched? {
        let failures = Locked<[DownloadError]>([])
        let announced = Locked<SHA256Digest?>(nil)
        let maxFailures = sources.count > 1 ? 2 : 1
        var threads: [ThreadHandle] = []
        for source in sources {
            let thread = ThreadHandle()
            do {
                try thread.start(name: "range-fetch") {
                    fetchRanges(
                        of: plan,
                        from: source,
                        size: size,
                        into: partial,
                        pieces: pieces,
                        follower: follower,
                        maxFailures: maxFailures
                    ) {
                        error in
                        failures.withLock { $0.append(error) }
                    } announced: { sha256 in
                        announced.withLock { $0 = $0 ?? sha256 }
                    }
                    plan.sourceEnded()
                }
                threads.append(thread)
            } catch {
                plan.sourceEnded()
            }
        }
        if sources.count > 1 { report(.sources(threads.count)) }
        while true {
            let (bytes, ended) = plan.progress(waitingUpTo: 0.1)
            follower?.advance(to: plan.writtenEnd)
            report(.progress(bytes: bytes, size: size))
            if ended { break }
        }
        for thread in threads { thread.join() }
        follower?.advance(to: plan.writtenEnd)
        guard plan.isComplete else {
            let last = failures.withLock { $0.last }
            if sources.count == 1, case .answeredNothing = last, plan.contiguousEnd == plan.start { return nil }
            throw last ?? .brokeOff(sources[0].peer, bytes: plan.contiguousEnd, .timedOut(.reading))
        }
        return Fetched(announced: announced.withLock { $0 })
    }

    /// One source's work: ranges from the plan until none is left or it
    /// failed `maxFailures` times (a liar: at once).
    private func fetchRanges(
        of plan: RangePlan,
        from source: Search.Match,
        size: Int64,
        into partial: PartialFile,
        pieces: CheckedPieces?,
        follower: HashFollower?,
        maxFailures: Int,
        failed record: (DownloadError) -> Void,
        announced: (SHA256Digest?) -> Void
    ) {
        // With a piece list, its bytes are checked against it as they land,
        // and until a piece of it proved good it has one piece in flight at most.
        var proven = false
        var failed = 0
        while failed < maxFailures,
            let range = plan.next(onePieceOf: proven ? nil : pieces?.list.pieceSize)
        {
            var written = range.lowerBound
            do throws(DownloadError) {
                let (sha256, proved) = try fetch(
                    range,
                    of: size,
                    from: source,
                    into: partial,
                    checking: pieces
                ) { position in
                    written = position
                    plan.wrote(range, upTo: position)
                    follower?.advance(to: plan.writtenEnd)  // the whole file's hash follows at once
                }
                announced(sha256)
                plan.finished(range)
                proven = proven || proved
            } catch {
                // Bytes of a source that broke off or sent a bad piece are
                // kept (with pieces, up to the last one checked); else none.
                plan.failed(range, writtenUpTo: error.leavesAResumablePartial ? written : range.lowerBound)
                record(error)
                failed += 1
                // A source caught lying is asked nothing more, by this download or another.
                if liars.record(error, name: source.name) { failed = maxFailures }
            }
        }
    }

    /// The piece list each source announces for its copy, asked of all at
    /// once; nil for a source that gives none that fits the size (an older
    /// pplus2 peer answers nothing).
    func pieceLists(of sources: [Search.Match], size: Int64) -> [PieceList?] {
        let lists = Locked<[PieceList?]>(Array(repeating: nil, count: sources.count))
        var threads: [ThreadHandle] = []
        for (index, source) in sources.enumerated().dropFirst() {
            let thread = ThreadHandle()
            let started: Void? = try? thread.start(name: "piece-list") {
                let list = pieceList(from: source, size: size)
                lists.withLock { $0[index] = list }
            }
            if started != nil { threads.append(thread) }
        }
        if let first = sources.first {  // the first on this thread
            let list = pieceList(from: first, size: size)
            lists.withLock { $0[0] = list }
        }
        for thread in threads { thread.join() }
        return lists.withLock { $0 }
    }

    private func pieceList(from source: Search.Match, size: Int64) -> PieceList? {
        guard let sha256 = source.sha256, size > 0 else { return nil }
        let request = Extension.piecesRequest(sha256: sha256, name: source.name)
        guard let stream = try? DownloadStream(request, to: source.peer, downloader: self) else { return nil }
        defer { stream.end() }
        guard let header = try? stream.readHeader(at: 0), header.size == size, header.sha256 == sha256,
            let body = stream.readSmallBody(after: header.body, maxBytes: Extension.maxPieceLinesBytes(forSize: size))
        else { return nil }
        return Extension.parsePieceLines(body, size: size)
    }

    /// One range from one source, moved into the partial at its offset, up
    /// to the source's clean end, each whole piece checked against `pieces`
    /// as it lands (`progress` is told how far the bytes are written and, with
    /// pieces, checked). Returns the SHA-256 its header announced and whether
    /// a piece of it proved good.
    private func fetch(
        _ range: Range<Int64>,
        of size: Int64,
        from source: Search.Match,
        into partial: PartialFile,
        checking pieces: CheckedPieces?,
        progress: (Int64) -> Void
    ) throws(DownloadError) -> (SHA256Digest?, proved: Bool) {
        let peer = source.peer
        let request = Extension.getRequest(
            offset: range.lowerBound,
            length: Int64(range.count),
            sha256: source.sha256,
            name: source.name
        )
        let stream = try DownloadStream(request, to: peer, downloader: self)
        defer { stream.end() }
        guard let header = try stream.readHeader(at: range.lowerBound) else { throw .answeredNothing(peer) }
        // The version listed, or nothing: another size or hash is another file.
        if header.size != size || (source.sha256 != nil && header.sha256 != nil && header.sha256 != source.sha256) {
            throw .changed(peer, size: header.size, sha256: header.sha256)
        }
        guard header.body.count <= range.count else { throw .tooLong(peer, size: size) }
        let check = pieces.flatMap { PieceCheck($0, range: range, file: partial.file, peer: peer) }
        var finished = false
        defer { if !finished { check?.abandon() } }
        var written = range.lowerBound
        func landed() throws(DownloadError) {
            try check?.advance(to: written)
            progress(check?.checkedUpTo ?? written)
        }
        try stream.write(header.body, into: partial, at: written)
        written += Int64(header.body.count)
        try landed()
        let mover = SocketToFile(writingFrom: written, positioned: true)
        while written < range.upperBound {
            let moved = try stream.receive(into: partial, with: mover, room: range.upperBound - written, total: written)
            guard let count = moved else { throw .cutShort(peer, bytes: written, size: size) }
            written += Int64(count)
            try landed()
        }
        // The end: a clean close. A byte more is a lie; a reset says the file changed there.
        if try stream.receive(into: partial, with: mover, room: 1, total: written) != nil {
            throw .tooLong(peer, size: size)
        }
        finished = true
        try check?.finish()
        progress(range.upperBound)
        return (header.sha256, check?.provedAPiece ?? false)
    }
}
