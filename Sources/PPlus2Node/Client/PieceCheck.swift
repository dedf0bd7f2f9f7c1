import PPlus2Core
import PPlus2POSIX

/// Checks the pieces of one range as its bytes land in the partial, against
/// the piece list the download trusts (`PieceVote`): a piece whose bytes do
/// not have the SHA-256 of the list proves its source a liar, and nobody
/// else. Only pieces wholly inside the range are judged (a piece cut by the
/// range's start or end holds bytes of another source or of a kept partial);
/// the whole-file SHA-256 still checks every byte at the end.
///
/// The hashing runs on a thread of its own, beside the range's receiving
/// (which must not wait for it: the socket would fill and the sender stall)
/// and the whole file's `HashFollower`: on two cores the two hashes of each
/// byte run side by side. The receiving side learns of a bad piece at its
/// next `advance`, at most a piece or two later; `finish` waits for the last
/// piece, so a range ends checked.
final class PieceCheck: @unchecked Sendable {
    let pieces: PieceList
    let range: Range<Int64>
    let peer: PeerIdentity
    private let file: FileDescriptor
    private let thread = ThreadHandle()
    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var written: Int64
    private var checked: Int64
    private var proved = false
    private var bad: Int?
    private var isAbandoned = false

    /// Starts checking `range` of `file`; nil if no thread could be started
    /// (the range is then left to the whole file's check).
    init?(pieces: PieceList, range: Range<Int64>, file: FileDescriptor, peer: PeerIdentity) {
        self.pieces = pieces
        self.range = range
        self.file = file
        self.peer = peer
        written = range.lowerBound
        checked = range.lowerBound
        do {
            try thread.start(name: "piece-check") { [self] in run() }
        } catch {
            return nil
        }
    }

    /// Where the bytes of the range known good (or not this range's to judge) stop.
    var checkedUpTo: Int64 { lock.withLock { checked } }

    /// Whether a piece of this source was checked and found good.
    var provedAPiece: Bool { lock.withLock { proved } }

    /// The range is written up to `written`; throws if a piece checked so far was bad.
    func advance(to position: Int64) throws(DownloadError) {
        let found = lock.withLock { () -> Int? in
            written = position
            lock.signal()
            return bad
        }
        if let found { throw .badPiece(peer, piece: found, count: pieces.count) }
    }

    /// The range is complete: waits for its last pieces to be judged; throws if one was bad.
    func finish() throws(DownloadError) {
        let found = lock.withLock { () -> Int? in
            while bad == nil && checked < range.upperBound { lock.wait() }
            return bad
        }
        thread.join()
        if let found { throw .badPiece(peer, piece: found, count: pieces.count) }
    }

    /// The range failed: the thread ends without judging the rest.
    func abandon() {
        lock.withLock {
            isAbandoned = true
            lock.broadcast()
        }
        thread.join()
    }

    private func run() {
        var buffer: [UInt8] = []
        while true {
            let next = lock.withLock { () -> (Range<Int64>, Int)? in
                while true {
                    if isAbandoned || bad != nil || checked >= range.upperBound { return nil }
                    let index = pieces.piece(at: checked)
                    let piece = pieces.range(ofPiece: index)
                    if piece.lowerBound < range.lowerBound || piece.upperBound > range.upperBound {
                        // Begun before the range, or ending past it: not this source's alone.
                        checked = min(piece.upperBound, range.upperBound)
                        lock.broadcast()
                        continue
                    }
                    if piece.upperBound <= written { return (piece, index) }
                    lock.wait()
                }
            }
            guard let (piece, index) = next else { return }
            let good = FileDigest.piece(piece, of: file, matches: pieces.hashes[index], buffer: &buffer)
            lock.withLock {
                if good {
                    checked = piece.upperBound
                    proved = true
                } else {
                    bad = index
                }
                lock.broadcast()
            }
        }
    }
}
