/// Every hidden file pplus2 keeps in a shared folder, named and recognised in
/// this one place.
///
/// All start with `.pplus2-`: a dotfile is never offered, served or written by
/// a download (`SharedFileName`), and the prefix keeps them apart from other
/// programs' files. Temporary ones carry the pid of the process that writes
/// them, so a peer sharing the folder can tell a live peer's file from one a
/// crash left behind.
public enum HiddenFile: Hashable, Sendable {
    /// A download being received: `.pplus2-PID-N.part`.
    case partial(pid: Int32, number: Int)
    /// The known peers, kept across restarts: `.pplus2-peers`.
    case peerList
    /// A new peer list being written, renamed over `peerList` when whole:
    /// `.pplus2-peers.PID.tmp`.
    case peerListDraft(pid: Int32)
    /// The SHA-256 of the offered files, by version, kept across restarts:
    /// `.pplus2-hashes`.
    case hashCache
    /// A new hash cache being written: `.pplus2-hashes.PID.tmp`.
    case hashCacheDraft(pid: Int32)
    /// A broken-off download of a known file, kept to be resumed:
    /// `.pplus2-keep-SHA256.part` (one per content, whichever peer sent it).
    case keptPartial(SHA256Digest)
    /// What a kept partial will be: `SIZE NAME`, one line, beside it:
    /// `.pplus2-keep-SHA256.name` (so the console can list it by name).
    case keptLabel(SHA256Digest)

    static let prefix = ".pplus2-"

    public var name: String {
        switch self {
        case .partial(let pid, let number): "\(Self.prefix)\(pid)-\(number).part"
        case .peerList: "\(Self.prefix)peers"
        case .peerListDraft(let pid): "\(Self.prefix)peers.\(pid).tmp"
        case .hashCache: "\(Self.prefix)hashes"
        case .hashCacheDraft(let pid): "\(Self.prefix)hashes.\(pid).tmp"
        case .keptPartial(let digest): "\(Self.prefix)keep-\(digest).part"
        case .keptLabel(let digest): "\(Self.prefix)keep-\(digest).name"
        }
    }

    /// The hidden file `name` stands for; nil for any other name.
    public init?(name: String) {
        guard name.hasPrefix(Self.prefix) else { return nil }
        let rest = name.dropFirst(Self.prefix.count)
        if rest == "peers" {
            self = .peerList
        } else if rest == "hashes" {
            self = .hashCache
        } else if let draft = Self.fields(rest, between: "peers.", and: ".tmp"), let pid = Int32(draft) {
            self = .peerListDraft(pid: pid)
        } else if let draft = Self.fields(rest, between: "hashes.", and: ".tmp"), let pid = Int32(draft) {
            self = .hashCacheDraft(pid: pid)
        } else if let hex = Self.fields(rest, between: "keep-", and: ".part"), let digest = SHA256Digest(hex: hex) {
            self = .keptPartial(digest)
        } else if let hex = Self.fields(rest, between: "keep-", and: ".name"), let digest = SHA256Digest(hex: hex) {
            self = .keptLabel(digest)
        } else if let partial = Self.fields(rest, between: "", and: ".part"),
            let dash = partial.firstIndex(of: "-"),
            let pid = Int32(partial[..<dash]),
            let number = Int(partial[partial.index(after: dash)...])
        {
            self = .partial(pid: pid, number: number)
        } else {
            return nil
        }
        // Only the canonical spelling counts (no `+1`, no leading zeros).
        guard self.name == name else { return nil }
    }

    /// The process whose temporary file this is; nil for a file that stays.
    public var owner: Int32? {
        switch self {
        case .partial(let pid, _), .peerListDraft(let pid), .hashCacheDraft(let pid): pid
        case .peerList, .hashCache, .keptPartial, .keptLabel: nil
        }
    }

    private static func fields(_ text: Substring, between start: String, and end: String) -> Substring? {
        guard text.hasPrefix(start), text.hasSuffix(end), text.count >= start.count + end.count else { return nil }
        return text.dropFirst(start.count).dropLast(end.count)
    }
}
