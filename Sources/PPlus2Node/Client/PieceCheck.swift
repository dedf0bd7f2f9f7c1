import PPlus2Core
import PPlus2POSIX

/// Checks the pieces of one range as its bytes land in the partial, against
/// the piece list the download trusts (`PieceVote`): a piece whose bytes do
/// not go from the list's value at its start to its value at its end proves
/// its source a liar, and nobody else. Only pieces wholly inside the range
/// are judged (a piece cut by the range's start or end holds bytes of another
/// source or of a kept partial); each good one is marked in the download's
/// `CheckedPieces`, and the pieces left unmarked are checked at the end.
///
/// The hashing runs on a thread of its own, beside the range's receiving
/// (which must not wait for it: the socket would fill and the sender stall).
/// It is the only hash of those bytes: the pieces' values chain into the whole
/// file's SHA-256. The receiving side learns of a bad piece at its next
/// `advance`, at most a piece or two later; `finish` waits for the last
/// piece, so a range ends checked.
final class PieceCheck: @unchecked Sendable {
    let range: Range<Int64>
    let peer: PeerIdentity
    private let file: FileDescriptor
    private let ledger: CheckedPieces
    private var pieces: PieceList { ledger.list }
    private let thread = ThreadHandle()
    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var written: Int64
    private var checked: Int64
    private var proved = false
    private var bad: Int?
    private var isAbandoned = false

    /// Starts checking `range` of `file` against `ledger`'s list, marking the
    /// good pieces there; nil if no thread could be started (its pieces are
    /// then checked at the end, read back).
    init?(_ ledger: CheckedPieces, range: Range<Int64>, file: FileDescriptor, peer: PeerIdentity) {
        self.ledger = ledger
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
            let good = FileDigest.piece(index, of: pieces, in: file, buffer: &buffer)
            if good { ledger.mark(index) }
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

/// Which pieces of one download were checked good against its piece list:
/// by a `PieceCheck` as they landed, or among a kept partial's (`KeptPieces`).
/// At the end the rest are checked, read back; when every piece is good the
/// file has the list's SHA-256, each byte hashed once.
final class CheckedPieces: Sendable {
    let list: PieceList
    private let good: Locked<[Bool]>

    init(_ list: PieceList) {
        self.list = list
        good = Locked(Array(repeating: false, count: list.count))
    }

    func mark(_ index: Int) {
        good.withLock { $0[index] = true }
    }

    /// Whether every piece of `file` is good: those not marked are checked now.
    func allGood(in file: FileDescriptor) -> Bool {
        let unchecked = good.withLock { marks in marks.indices.filter { !marks[$0] } }
        var buffer: [UInt8] = []
        return unchecked.allSatisfy { FileDigest.piece($0, of: list, in: file, buffer: &buffer) }
    }
}
