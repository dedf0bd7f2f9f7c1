import PPlus2Core
import PPlus2POSIX

/// A kept partial checked piece by piece before a resume uses it.
///
/// Every piece wholly among the kept bytes is hashed against the piece list
/// the download trusts: good ones stay, bad ones are fetched again (a disk
/// that lost bytes, a partial written by an older pplus2). The piece cut by
/// the kept end is fetched again from its start, so every byte of the file
/// is checked against the list as it lands.
///
/// A list can lie between its ends (it must end at the content's SHA-256 to
/// be used at all). Before a kept piece is written over, its old bytes are
/// saved here, and put back if the download then fails (the list's
/// announcers caught by pieces that could not match it): a lying list never
/// costs the bytes a kept partial held.
/// The bytes saved are bounded (`maxSavedBytes`); a list that calls more of
/// the kept bytes bad than that is not used on this partial.
struct KeptPieces {
    /// The most bytes of bad kept pieces held in memory to be put back.
    static let maxSavedBytes = 64 << 20

    /// The bytes of the file to fetch, in file order: the bad kept pieces,
    /// then from the piece cut by the kept end to the end of the file.
    private(set) var missing: [Range<Int64>] = []
    /// How many kept pieces were bad.
    private(set) var badPieces = 0
    /// The kept pieces found good, by index.
    private(set) var goodPieces: [Int] = []
    /// The old bytes of kept pieces that will be written over.
    private var saved: [(offset: Int64, bytes: [UInt8])] = []
    /// The bytes the partial held when the download started.
    let keptEnd: Int64

    /// A partial with nothing kept: the whole file is missing.
    init(size: Int64) {
        self.init(size: size, resumedFrom: 0)
    }

    /// A kept partial resumed with no piece list to check it against: its
    /// bytes are left to the whole file's SHA-256.
    init(size: Int64, resumedFrom kept: Int64) {
        keptEnd = kept
        missing = [kept..<max(kept, size)]
    }

    /// Checks the `kept` first bytes of `file` against `pieces`; nil when
    /// more than `maxSavedBytes` of them would be written over.
    init?(file: FileDescriptor, kept: Int64, pieces: PieceList) {
        keptEnd = kept
        var buffer: [UInt8] = []
        var savedBytes = 0
        var resumeAt = kept
        for index in 0..<pieces.count {
            let piece = pieces.range(ofPiece: index)
            guard piece.lowerBound < kept else { break }
            let isCut = piece.upperBound > kept
            if !isCut && FileDigest.piece(index, of: pieces, in: file, buffer: &buffer) {
                goodPieces.append(index)
                continue
            }
            let old = piece.lowerBound..<min(piece.upperBound, kept)
            savedBytes += old.count
            guard savedBytes <= Self.maxSavedBytes, let bytes = Self.read(old, of: file) else { return nil }
            saved.append((old.lowerBound, bytes))
            if isCut {
                resumeAt = piece.lowerBound
            } else {
                badPieces += 1
                add(piece)
            }
        }
        add(resumeAt..<max(resumeAt, pieces.size))
    }

    /// Puts the saved bytes back and cuts the partial to what it held: the
    /// download that judged them with its list failed.
    func restore(into file: FileDescriptor) -> Bool {
        for (offset, bytes) in saved {
            let written: Void? = bytes.withUnsafeBytes { try? FileWriting.writeAll(file, $0, at: offset) }
            guard written != nil else { return false }
        }
        return (try? FileWriting.truncate(file, to: keptEnd)) != nil
    }

    /// Adds `range` to the missing bytes, joined to the last one when they touch.
    private mutating func add(_ range: Range<Int64>) {
        if let last = missing.last, last.upperBound == range.lowerBound {
            missing[missing.count - 1] = last.lowerBound..<range.upperBound
        } else if !range.isEmpty || missing.isEmpty {
            missing.append(range)
        }
    }

    private static func read(_ range: Range<Int64>, of file: FileDescriptor) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                (try? FileReading.read(
                    file,
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]),
                    at: range.lowerBound + Int64(done)
                )) ?? -1
            }
            guard count > 0 else { return nil }
            done += count
        }
        return bytes
    }
}
