import PPlus2Core
import PPlus2POSIX

// Receiving: downloads are written to hidden partial files and take their
// name only when complete, never over an existing file. A broken-off download
// of a known content (its SHA-256 was told) is set aside instead of removed,
// as `HiddenFile.keptPartial`, and a later download of the same content, from
// any peer, resumes from it.

extension SharedFolder {
    struct Partials {
        /// Active partial files, with the content each will be (if known).
        var active: [String: SHA256Digest?] = [:]
        var counter = 0
        var isClosed = false
    }

    /// How many kept partials, of how many bytes in all, for how long.
    public struct KeptPartialLimits: Sendable {
        public var count = 8
        public var bytes: Int64 = 64 << 30
        public var maxAgeSeconds = 7 * 86_400.0

        public init() {}
    }

    /// Creates a new hidden partial file for a download of `content` (nil:
    /// unknown). Created under the registry's lock, so a shutdown cannot slip
    /// between creating it and registering it (and leave it behind).
    public func createPartial(content: SHA256Digest? = nil) throws(DownloadError) -> PartialFile {
        let created: Result<PartialFile, DownloadError> = partials.withLock { partials in
            guard !partials.isClosed else { return .failure(.stopping) }
            let name = Self.nextPartialName(&partials)
            do throws(IOFailure) {
                let file = try directory.createExclusive(name, readable: true)
                partials.active[name] = content
                return .success(PartialFile(name: name, file: file, content: content, resumedFrom: 0))
            } catch {
                // In a removed folder, "no such file or directory" would not say what is wrong.
                return .failure(.local(.creatingPartial, folder: path, directory.isRemoved ? .folderGone : error))
            }
        }
        return try created.get()
    }

    /// The kept partial of `content`, taken back as an active partial to be
    /// continued; nil if there is none (or one longer than `size`, removed).
    public func resumePartial(content: SHA256Digest, size: Int64) -> PartialFile? {
        let kept = HiddenFile.keptPartial(content).name
        return partials.withLock { partials -> PartialFile? in
            guard !partials.isClosed else { return nil }
            let name = Self.nextPartialName(&partials)
            guard (try? directory.renameWithoutReplacing(kept, to: name)) == true else { return nil }
            directory.remove(HiddenFile.keptLabel(content).name)  // written again if it is kept again
            guard let opened = try? directory.openForAppending(name), opened.size <= size else {
                directory.remove(name)
                return nil
            }
            partials.active[name] = content
            return PartialFile(name: name, file: opened.file, content: content, resumedFrom: opened.size)
        }
    }

    private static func nextPartialName(_ partials: inout Partials) -> String {
        partials.counter += 1
        return HiddenFile.partial(pid: ProcessControl.pid, number: partials.counter).name
    }

    /// Gives a complete partial file its final name: `wanted` if free, else the
    /// first free `stem (k).ext`. Never replaces a file. Returns the name used.
    /// A relative path (`Album 3/01 Intro.flac`) lands in its folder, the
    /// missing folders created beneath the shared folder, never through a
    /// symbolic link (`Folder.makeSubfolders`).
    public func commit(_ partial: PartialFile, as wanted: String) throws(DownloadError) -> String {
        let (folderPath, leaf) = Folder.split(wanted)
        let outcome: Result<String, DownloadError> = partials.withLock { partials in
            guard !partials.isClosed, partials.active[partial.name] != nil else { return .failure(.stopping) }
            let target: Folder
            do throws(IOFailure) {
                target = folderPath.isEmpty ? directory : try directory.makeSubfolders(folderPath)
            } catch {
                return .failure(.local(.saving(as: wanted), folder: path, error))
            }
            for attempt in 0...999 {
                let candidate = Self.candidateName(for: leaf, attempt: attempt)
                switch Result(catching: { () throws(IOFailure) in
                    try directory.renameWithoutReplacing(partial.name, into: target, as: candidate)
                }) {
                case .success(true):
                    partials.active[partial.name] = nil
                    return .success(folderPath.isEmpty ? candidate : folderPath + "/" + candidate)
                case .success(false):
                    continue  // taken: try the next name
                case .failure(let failure):
                    return .failure(.local(.saving(as: candidate), folder: path, failure))
                }
            }
            return .failure(.noFreeName(wanted))
        }
        return try outcome.get()
    }

    /// Deletes a partial file that will not be completed.
    public func discard(_ partial: PartialFile) {
        partials.withLock { partials in
            if partials.active.removeValue(forKey: partial.name) != nil { directory.remove(partial.name) }
        }
    }

    /// A download that broke off: kept to be resumed if its content is known
    /// and it holds a byte, else deleted. Returns true if it was kept.
    @discardableResult
    public func setAside(_ partial: PartialFile) -> Bool {
        let kept = partials.withLock { partials -> Bool in
            guard partials.active.removeValue(forKey: partial.name) != nil else { return false }
            return keepOrRemove(partial.name, content: partial.content)
        }
        if kept, let content = partial.content, let label = partial.label {
            let line = "\(label.size) \(label.name)\n"
            let name = HiddenFile.keptLabel(content).name
            try? directory.replaceSmallFile(name, with: Array(line.utf8), draft: name + ".\(ProcessControl.pid).tmp")
        }
        if kept { sweepKeptPartials() }
        return kept
    }

    /// At shutdown: sets aside every partial of a known content, removes the
    /// others, and refuses new ones.
    public func closePartials() {
        partials.withLock { partials in
            partials.isClosed = true
            for (name, content) in partials.active { _ = keepOrRemove(name, content: content) }
            partials.active.removeAll()
        }
    }

    /// Called with the registry locked.
    private func keepOrRemove(_ name: String, content: SHA256Digest?) -> Bool {
        guard let content, let size = try? directory.openRegularFile(name).size, size > 0 else {
            directory.remove(name)
            return false
        }
        do {
            try directory.renameReplacing(name, to: HiddenFile.keptPartial(content).name)
            return true
        } catch {
            directory.remove(name)
            return false
        }
    }

    /// Removes kept partials older than the limit, then the oldest ones past
    /// the count or byte limits.
    public func sweepKeptPartials() {
        let now = WallClock.now
        var kept: [(name: String, status: FileStatus)] = []
        for (name, status) in hiddenFiles() {
            guard case .keptPartial? = HiddenFile(name: name) else { continue }
            if now - Double(status.modified) / 1e9 > keptLimits.maxAgeSeconds {
                directory.remove(name)
            } else {
                kept.append((name, status))
            }
        }
        kept.sort { $0.status.modified > $1.status.modified }  // newest first
        var bytes: Int64 = 0
        var staying = Set<SHA256Digest>()
        for (index, file) in kept.enumerated() {
            bytes += file.status.size
            if index >= keptLimits.count || bytes > keptLimits.bytes {
                directory.remove(file.name)
            } else if case .keptPartial(let content)? = HiddenFile(name: file.name) {
                staying.insert(content)
            }
        }
        // A label goes with its kept partial.
        for (name, _) in hiddenFiles() {
            if case .keptLabel(let content)? = HiddenFile(name: name), !staying.contains(content) {
                directory.remove(name)
            }
        }
    }

    /// The kept partials, newest first, with what each will be (a partial
    /// kept without a label, by an older pplus2, shows under its hash).
    public func keptDownloads() -> [KeptDownload] {
        let files = hiddenFiles().sorted { $0.status.modified > $1.status.modified }
        return files.compactMap { name, status -> KeptDownload? in
            guard case .keptPartial(let content)? = HiddenFile(name: name) else { return nil }
            var label = KeptDownload(name: "(content \(content.prefix))", size: 0)
            let labelName = HiddenFile.keptLabel(content).name
            var text: [UInt8] = []
            if (try? directory.readFile(
                labelName,
                maxBytes: 8192,
                {
                    text += $0
                    return true
                }
            )) == true,
                let line = String(validating: text, as: UTF8.self)?.split(separator: "\n").first,
                let space = line.firstIndex(of: " "), let size = Int64(line[..<space])
            {
                label = KeptDownload(name: String(line[line.index(after: space)...]), size: size)
            }
            label.kept = status.size
            label.content = content
            return label
        }
    }

    /// Attempt 0 is `name` itself, attempt k is `stem (k).ext`, the stem cut
    /// (by whole characters) so that the name still fits in 255 bytes.
    static func candidateName(for name: String, attempt: Int) -> String {
        guard attempt > 0 else { return name }
        var (stem, suffix) = splitExtension(name)
        if suffix.utf8.count > 32 { (stem, suffix) = (name, "") }  // not an extension: a dot in a long name
        let tail = " (\(attempt))\(suffix)"
        while !stem.isEmpty && stem.utf8.count + tail.utf8.count > SharedFileName.maxBytes { stem.removeLast() }
        return stem + tail
    }

    /// The name a download of `wanted` would be saved as now: the first
    /// candidate not taken (the commit still never replaces a file, and takes
    /// the next one if another appeared meanwhile); nil if all 1000 are.
    public func freeName(for wanted: String) -> String? {
        let (folderPath, leaf) = Folder.split(wanted)
        let prefix = folderPath.isEmpty ? "" : folderPath + "/"
        return (0...999).lazy.map { prefix + Self.candidateName(for: leaf, attempt: $0) }.first { candidate in
            directory.entry(named: Array(candidate.utf8)) == nil
        }
    }

    /// Why `wanted` (a valid relative path) cannot be saved here: a component
    /// of its folder that is a file or a symbolic link in this folder; nil if
    /// it can (its folders exist as real folders, or will be created).
    public func pathProblem(for wanted: String) -> String? {
        var walked = ""
        for component in SharedPath.components(Folder.split(wanted).folder) {
            walked += (walked.isEmpty ? "" : "/") + component
            guard let entry = directory.entry(named: Array(walked.utf8)) else { return nil }  // created when saved
            switch entry.kind {
            case .directory: continue
            case .symbolicLink: return "\(walked) is a symbolic link here"
            default: return "\(walked) is a file here"
            }
        }
        return nil
    }

    /// `report.pdf` → (`report`, `.pdf`); `archive.tar.gz` → (`archive.tar`, `.gz`);
    /// `README` → (`README`, ``).
    static func splitExtension(_ name: String) -> (stem: String, suffix: String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }
}

/// A hidden file a download is written into.
public struct PartialFile: Sendable {
    public let name: String
    /// Open to write at its end and to read back.
    public let file: FileDescriptor
    /// The content it will be, if known: what it is kept as if it breaks off.
    public let content: SHA256Digest?
    /// Bytes it held when the download (re)started: a resume goes on from here.
    public let resumedFrom: Int64
    /// The file it will be (its name and whole size), written beside it when it is kept.
    public var label: KeptDownload?
}

/// A broken-off download kept to be resumed, as the console lists it.
public struct KeptDownload: Sendable, Equatable {
    public let name: String
    /// The whole file's size.
    public let size: Int64
    /// Bytes kept (0 in a label: read off the kept file when listed).
    public var kept: Int64 = 0
    /// The content it will be (its SHA-256), when listed; not part of its equality.
    public var content: SHA256Digest?

    public static func == (left: KeptDownload, right: KeptDownload) -> Bool {
        left.name == right.name && left.size == right.size && left.kept == right.kept
    }

    public init(name: String, size: Int64, kept: Int64 = 0) {
        self.name = name
        self.size = size
        self.kept = kept
    }
}
