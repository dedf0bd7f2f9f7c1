import PPlus2Core
import PPlus2POSIX

/// Checks the pieces of one range as its bytes land in the partial, against
/// the piece list its source announced (`\u{1}pieces`): a piece whose bytes do
/// not have the SHA-256 the source itself announced proves that source a liar,
/// and nobody else. Only pieces wholly inside the range are judged (a piece
/// cut by the range's start or end holds bytes of another source or of a kept
/// partial); the whole-file SHA-256 still checks every byte at the end.
struct PieceCheck {
    let pieces: PieceList
    let range: Range<Int64>
    let file: FileDescriptor
    let peer: PeerIdentity
    /// Where the bytes of the range known good or not judged stop.
    private(set) var checkedUpTo: Int64
    /// Whether a piece of this source was checked and found good.
    private(set) var provedAPiece = false
    private var buffer: [UInt8] = []

    init(pieces: PieceList, range: Range<Int64>, file: FileDescriptor, peer: PeerIdentity) {
        self.pieces = pieces
        self.range = range
        self.file = file
        self.peer = peer
        checkedUpTo = range.lowerBound
    }

    /// The range is written up to `written`: checks every piece completed since.
    mutating func advance(to written: Int64) throws(DownloadError) {
        while checkedUpTo < written && pieces.size > 0 {
            let index = pieces.piece(at: checkedUpTo)
            let piece = pieces.range(ofPiece: index)
            if piece.lowerBound < range.lowerBound {  // begun before the range: not this source's alone
                checkedUpTo = min(piece.upperBound, range.upperBound)
                continue
            }
            guard piece.upperBound <= written else { return }
            guard piece.upperBound <= range.upperBound else { return }  // ends past the range: not judged here
            guard FileDigest.piece(piece, of: file, matches: pieces.hashes[index], buffer: &buffer) else {
                throw .badPiece(peer, piece: index, count: pieces.count)
            }
            checkedUpTo = piece.upperBound
            provedAPiece = true
        }
    }

    /// The range is complete: every byte of it is checked or not this range's to judge.
    mutating func finish() {
        checkedUpTo = range.upperBound
    }
}
