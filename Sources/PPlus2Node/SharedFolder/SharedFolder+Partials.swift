import PPlus2Core
import PPlus2POSIX

extension SharedFolder {
    // MARK: Receiving

    struct Partials {
        var active: Set<String> = []
        var counter = 0
        var isClosed = false
    }

    /// Creates a new hidden partial file for a download. The file is created
    /// under the registry's lock, so a shutdown cannot slip between creating
    /// it and registering it (and leave it behind).
    public func createPartial() throws(DownloadError) -> PartialFile {
        let created: Result<PartialFile, DownloadError> = partials.withLock { partials in
            guard !partials.isClosed else { return .failure(.stopping) }
            partials.counter += 1
            let name = HiddenFile.partial(pid: ProcessControl.pid, number: partials.counter).name
            do throws(IOFailure) {
                let file = try directory.createExclusive(name)
                partials.active.insert(name)
                return .success(PartialFile(name: name, file: file))
            } catch {
                return .failure(.local(.creatingPartial, folder: path, error))
            }
        }
        return try created.get()
    }

    /// Gives a complete partial file its final name: `wanted` if free, else the
    /// first free `stem (k).ext`. Never replaces a file. Returns the name used.
    public func commit(_ partial: PartialFile, as wanted: String) throws(DownloadError) -> String {
        let outcome: Result<String, DownloadError> = partials.withLock { partials in
            guard !partials.isClosed, partials.active.contains(partial.name) else { return .failure(.stopping) }
            for attempt in 0...999 {
                let candidate = Self.candidateName(for: wanted, attempt: attempt)
                guard candidate.utf8.count <= SharedFileName.maxBytes else { continue }
                switch Result(catching: { () throws(IOFailure) in
                    try directory.renameWithoutReplacing(partial.name, to: candidate)
                }) {
                case .success(true):
                    partials.active.remove(partial.name)
                    return .success(candidate)
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
            if partials.active.remove(partial.name) != nil { directory.remove(partial.name) }
        }
    }

    /// Removes every partial file of this peer and refuses new ones: at shutdown.
    public func closeAndRemovePartials() {
        partials.withLock { partials in
            partials.isClosed = true
            for name in partials.active { directory.remove(name) }
            partials.active.removeAll()
        }
    }

    /// Attempt 0 is `name` itself, attempt k is `stem (k).ext`.
    static func candidateName(for name: String, attempt: Int) -> String {
        guard attempt > 0 else { return name }
        let (stem, suffix) = splitExtension(name)
        return "\(stem) (\(attempt))\(suffix)"
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
    public let file: FileDescriptor
}
