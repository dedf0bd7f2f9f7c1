import PPlus2Core
import PPlus2POSIX

/// Fetches one file from other peers into the shared folder.
///
/// Every download is the same stages, each written once, in this file's
/// `download(copies:)`:
/// 1. admission: a valid name with a free variant, a size under the limit;
/// 2. the partial: the kept partial of this content (a resume), else a new
///    hidden one, with room for the rest in the folder;
/// 3. the ranges (`Downloader+Ranges`): from one source, the rest of the file
///    as one range; from several sources offering the same size and SHA-256,
///    ranges of `rangeSize` shared out by a `RangePlan`; each range is one
///    connection (`DownloadStream`: request, header, body into the partial at
///    its offset, clean end), each piece checked as it lands against the
///    piece list most sources announced (`PieceVote`, `PieceCheck`), a
///    source not yet proven honest asked for the last piece first; a kept
///    partial is checked piece by piece first (`KeptPieces`);
/// 4. the check: exactly the announced size, and the announced SHA-256:
///    with a list, the checked pieces chain into it (`CheckedPieces`: each
///    byte hashed once); without one, a `HashFollower` hashes the file
///    behind the writes;
/// 5. the commit: synced, then renamed to its name (or `name (1).ext`...);
///    a break-off keeps the partial to resume, anything else discards it.
///
/// A plain P+2 peer (no size was listed) has no header and no length: the
/// file is one stream to a clean end (`Downloader+Plain`), stages 1 and 5 the
/// same.
public struct Downloader: Sendable {
    public let client: PeerClient
    public let folder: SharedFolder
    /// The largest file accepted; past it the download is refused or abandoned.
    public let maxSize: Int64
    /// How another thread can stop it.
    public var cancellation: DownloadCancellation?
    /// The bytes one request of a multi-source download asks for.
    public var rangeSize: Int64 = 8 << 20
    /// The floor under which a connection of the download is ended as stalled.
    public var stallRule = StallRule()
    /// Peers caught lying in this run: not used as sources, and recorded here when caught.
    public var liars = Liars()
    /// The most peers one download fetches from at once.
    public static let maxSources = 4
    /// Told of each file saved verified: its name as saved, its SHA-256 and
    /// the piece list it was checked against (if any), so that the folder's
    /// hasher need not read it again.
    public var verified: (@Sendable (String, SHA256Digest, PieceList?) -> Void)?

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
        /// This many pieces of the kept partial did not match the piece list: fetched again.
        case repairing(pieces: Int)
        /// A peer was caught lying during this download (not asked again in this run).
        case caught(PeerIdentity, why: String)
    }

    /// Downloads `copies[0]`, from every peer among `copies` that offers the
    /// same content (size and SHA-256) at once where that helps; `report` is
    /// called with what happens, on this thread.
    public func download(copies: [Search.Match], report: (Event) -> Void = { _ in }) throws(DownloadError) -> Outcome {
        // Peers caught lying in this run are not asked again, for any content.
        let honest = copies.filter { !liars.contains($0.peer) }
        guard let first = honest.first else {
            throw copies.first.map { .distrusted($0.peer) } ?? .invalidName
        }
        try admit(first)
        guard let size = first.size else { return try downloadPlain(first.name, from: first.peer, report: report) }
        let before = liars.all
        let candidates = sources(among: honest, size: size)
        // Every source's piece list, asked at once: the bytes are checked
        // against the list most of them announce, and only sources that
        // announced it are used (a source without a list could be checked
        // only at the end, when others give one).
        let vote = PieceVote(boundLists(of: candidates, size: size, name: first.name))
        let chosen = vote.chosen.map { group in Array(group.sources.map { candidates[$0] }) }
        let voted = liars.all.count
        do throws(DownloadError) {
            // A failure names the peer at fault itself.
            let outcome = try download(
                first,
                size: size,
                from: chosen ?? candidates,
                pieces: vote.chosen?.list,
                report: report
            )
            // The file is the content: a source whose list differs announced false values.
            for group in vote.groups.dropFirst() {
                for index in group.sources { liars.recordFalsePieces(candidates[index].peer, name: first.name) }
            }
            reportCaught(since: before, report: report)
            return outcome
        } catch {
            reportCaught(since: before, report: report)
            // Liars caught and other copies of this content left (another
            // list, more copies): they are tried, the partial kept checked against their list.
            let others = honest.filter { $0.hasSameContent(as: first) && !liars.contains($0.peer) }
            guard liars.all.count > voted, !others.isEmpty else { throw error }
            return try download(copies: others, report: report)
        }
    }

    /// Each source's piece list, `nil` for a source that gave none; a list
    /// that does not end at the content's SHA-256 is not that content's: its
    /// source lied, is recorded, and counts as giving none.
    private func boundLists(of sources: [Search.Match], size: Int64, name: String) -> [PieceList?] {
        zip(sources, pieceLists(of: sources, size: size)).map { source, list in
            guard let list, let sha256 = source.sha256 else { return nil }
            if list.isBound(to: sha256) { return list }
            liars.recordFalsePieces(source.peer, name: name)
            return nil
        }
    }

    /// Fetches the content of `first` from `sources`, each byte checked
    /// against `pieces` when there is a list, into the kept partial of this
    /// content (its pieces checked first) or a new one, then checks, syncs and names it.
    private func download(
        _ first: Search.Match,
        size: Int64,
        from sources: [Search.Match],
        pieces list: PieceList?,
        report: (Event) -> Void
    ) throws(DownloadError) -> Outcome {
        let (partial, kept) = try startPartial(first, size: size, pieces: list, report: report)
        let plan = plan(kept.missing, size: size, sources: sources.count)
        // With a list, the pieces' checks are the file's hash; without, a follower hashes it.
        let pieces = list.map(CheckedPieces.init)
        for index in kept.goodPieces { pieces?.mark(index) }
        let follower = pieces == nil ? try? HashFollower(file: partial.file, written: plan.writtenEnd) : nil
        defer {
            follower?.stop()  // a download that failed: the follower ends here, joined, never left behind
            follower?.join()
        }
        do throws(DownloadError) {
            let fetched = try fetch(
                plan,
                from: sources,
                size: size,
                into: partial,
                pieces: pieces,
                follower: follower,
                report: report
            )
            guard let fetched else {
                folder.setAside(partial)  // what a resume brought stays for another peer
                return .notOffered
            }
            // The check: the hash listed, else the one the header announced, else the size alone.
            var check = Check.sizeOnly
            if let expected = first.sha256 ?? fetched.announced {
                let actual = hash(partial, checking: pieces, expected: expected, follower: follower)
                guard let actual else { throw .local(.verifying, folder: folder.path, .wroteNothing) }
                guard actual == expected else {
                    let mismatch = DownloadError.hashMismatch(sources[0].peer, expected: expected, actual: actual)
                    return try mismatched(mismatch, partial, sources: sources, report: report)
                }
                check = .verified(actual)
            }
            try sync(partial)
            try checkNotCancelled(bytes: size, from: first.peer)
            let savedName = try folder.commit(partial, as: first.name)
            if case .verified(let digest) = check { verified?(savedName, digest, list) }
            return .saved(savedName: savedName, bytes: size, check: check)
        } catch {
            liars.record(error, name: first.name)
            keepOrDiscard(partial, upTo: plan.contiguousEnd, kept: kept, error: error, report: report)
            throw error
        }
    }

    /// The SHA-256 of the partial. With a list bound to `expected`, it is
    /// `expected` when every piece went from its start value to its end value
    /// (those not checked as they landed are checked now), so no byte is
    /// hashed twice; else, or if one did not, the whole file's hash, from the
    /// follower or read back.
    private func hash(
        _ partial: PartialFile,
        checking pieces: CheckedPieces?,
        expected: SHA256Digest,
        follower: HashFollower?
    ) -> SHA256Digest? {
        if let pieces, pieces.list.isBound(to: expected), pieces.allGood(in: partial.file) { return expected }
        return follower?.finish() ?? hashWhole(partial)
    }

    /// One source: each missing stretch as one range. Several: ranges of
    /// `rangeSize` (at least a piece) to share out.
    private func plan(_ missing: [Range<Int64>], size: Int64, sources: Int) -> RangePlan {
        let step = sources > 1 ? max(rangeSize, PieceList.pieceSize(forSize: size)) : max(size, 1)
        return RangePlan(missing: missing, size: size, rangeSize: step, sources: sources)
    }

    /// The whole file is not the content (checked as it landed against a
    /// list, a piece could not be: no check thread). From one source: that
    /// source lied; from several: each is tried alone.
    private func mismatched(
        _ mismatch: DownloadError,
        _ partial: PartialFile,
        sources: [Search.Match],
        report: (Event) -> Void
    ) throws(DownloadError) -> Outcome {
        guard sources.count > 1 else { throw mismatch }  // caught by the caller: recorded, the partial discarded
        folder.discard(partial)
        report(.mismatch(sources: sources.count))
        return try downloadOneByOne(sources, report: report)
    }

    /// Tells of each peer caught lying since `before`, by name and why.
    private func reportCaught(since before: [PeerIdentity: String], report: (Event) -> Void) {
        for (peer, why) in liars.all.sorted(by: { $0.key < $1.key }) where before[peer] == nil {
            report(.caught(peer, why: why))
        }
    }

    // MARK: The stages

    /// Refuses, before the first byte, what could never be saved.
    private func admit(_ match: Search.Match) throws(DownloadError) {
        // A path only from a pplus2 peer (it told a size): plain P+2 has no folders.
        guard SharedPath.isValid(match.name, folders: match.size != nil) else { throw .invalidName }
        if let problem = folder.pathProblem(for: match.name) { throw .unsafePath(match.name, problem) }
        guard folder.freeName(for: match.name) != nil else { throw .noFreeName(match.name) }
        if let size = match.size, size > maxSize { throw .tooLarge(maxSize) }
    }

    /// The peers to fetch from: each peer once, with the same content as the
    /// first copy, at most `maxSources`; the first alone when the content has
    /// no hash yet or the file is too small for ranges to help.
    private func sources(among copies: [Search.Match], size: Int64) -> [Search.Match] {
        let first = copies[0]
        guard first.sha256 != nil, size > 2 * rangeSize else { return [first] }
        var peers = Set<PeerIdentity>()
        let same = copies.filter { $0.hasSameContent(as: first) && peers.insert($0.peer).inserted }
        return Array(same.prefix(Self.maxSources))
    }

    /// The kept partial of this content if there is one, its pieces checked
    /// against `pieces` (`KeptPieces`), else a new partial; refused when the
    /// rest does not fit in the folder's free space. Open for writing at
    /// positions (a kept partial was open for appending).
    private func startPartial(
        _ match: Search.Match,
        size: Int64,
        pieces: PieceList?,
        report: (Event) -> Void
    ) throws(DownloadError) -> (PartialFile, KeptPieces) {
        var partial: PartialFile
        var kept = KeptPieces(size: size)
        if let content = match.sha256, let resumed = folder.resumePartial(content: content, size: size) {
            partial = resumed
            kept = KeptPieces(size: size, resumedFrom: resumed.resumedFrom)
            if let pieces {
                if let checked = KeptPieces(file: resumed.file, kept: resumed.resumedFrom, pieces: pieces) {
                    kept = checked
                } else {
                    // The list calls too much of it bad to risk: left as it is, the file fetched anew.
                    folder.setAside(resumed)
                    partial = try folder.createPartial(content: content)
                    kept = KeptPieces(size: size)
                }
            }
        } else {
            partial = try folder.createPartial(content: match.sha256)
        }
        partial.label = KeptDownload(name: match.name, size: size)
        if kept.keptEnd > 0 { report(.resumed(from: kept.keptEnd)) }
        if kept.badPieces > 0 { report(.repairing(pieces: kept.badPieces)) }
        let needed = kept.missing.reduce(0) { $0 + Int64($1.count) }
        if let free = try? folder.directory.freeBytes(), free < needed {
            folder.setAside(partial)
            throw .noSpace(needed: needed, free: free)
        }
        do {
            try partial.file.setAppending(false)
        } catch {
            folder.setAside(partial)
            throw .local(.writing, folder: folder.path, error)
        }
        return (partial, kept)
    }

    /// After a mismatch among several sources: each alone, checked alone,
    /// until one verifies; the last one's failure if none does.
    private func downloadOneByOne(_ sources: [Search.Match], report: (Event) -> Void) throws(DownloadError) -> Outcome {
        for source in sources.dropLast() {
            if let outcome = try? download(copies: [source], report: report) { return outcome }
        }
        return try download(copies: [sources[sources.count - 1]], report: report)
    }

    /// A partial that broke off keeps its bytes up to the first hole, to be
    /// resumed. A failure never costs the bytes a kept partial held before
    /// this attempt when it says nothing against them (a source that
    /// disagrees, cannot be reached, lies or breaks off): kept pieces written
    /// over are put back unless every one was fetched again whole.
    /// Wrong bytes with no piece list to blame them on discard it.
    private func keepOrDiscard(
        _ partial: PartialFile,
        upTo end: Int64,
        kept: KeptPieces,
        error: DownloadError,
        report: (Event) -> Void
    ) {
        var end = error.leavesAResumablePartial ? end : 0
        if end < kept.keptEnd {
            guard error.leavesKeptBytesAlone, kept.restore(into: partial.file) else { return folder.discard(partial) }
            end = kept.keptEnd
        }
        guard end > 0, (try? FileWriting.truncate(partial.file, to: end)) != nil, folder.setAside(partial) else {
            return folder.discard(partial)
        }
        report(.kept(bytes: end))
    }

    /// The SHA-256 of the whole partial, read back (when no follower could start).
    private func hashWhole(_ partial: PartialFile) -> SHA256Digest? {
        var buffer: [UInt8] = []
        return FileDigest.sha256(of: partial.file, buffer: &buffer)?.digest
    }

    /// A cancel that came before the file took its name wins: nothing is
    /// saved (the whole partial is kept, verified, to be resumed in no time).
    func checkNotCancelled(bytes: Int64, from peer: PeerIdentity) throws(DownloadError) {
        if cancellation?.isCancelled == true { throw .cancelled(peer, bytes: bytes) }
    }

    func sync(_ partial: PartialFile) throws(DownloadError) {
        do {
            try FileWriting.sync(partial.file)
        } catch {
            throw .local(.writing, folder: folder.path, error)
        }
    }
}
