import Glibc

// A shared folder's sub-folders: relative paths (`a/b/c.txt`) walked one
// component at a time beneath the folder, each a real folder, never through
// a symbolic link: what lets a tree be shared and downloaded without a name
// ever reaching outside it.

extension Folder {
    /// The folder `path` (components separated by `/`) beneath this one,
    /// each component opened in the one before it as a real folder
    /// (`O_DIRECTORY | O_NOFOLLOW`): a symbolic link anywhere, a file, or
    /// `..` fails, so the result is always inside this folder.
    public func subfolder(_ path: some StringProtocol) throws(IOFailure) -> Folder {
        var current = self
        var walked = self.path
        for component in path.split(separator: "/") {
            guard component != "..", component != "." else { throw .notARegularFile }
            let raw = try Sys.openAt(
                current.descriptor.rawValue,
                String(component),
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY
            )
            walked += "/" + component
            current = Folder(descriptor: FileDescriptor(adopting: raw), path: walked)
        }
        return current
    }

    /// The folder holding the last component of `name` (opened by
    /// `subfolder`), and that component.
    public func parent(of name: String) throws(IOFailure) -> (Folder, String) {
        let (folder, leaf) = Self.split(name)
        return (folder.isEmpty ? self : try subfolder(folder), leaf)
    }

    /// `a/b/c.txt` → (`a/b`, `c.txt`); `c.txt` → (``, `c.txt`).
    public static func split(_ path: String) -> (folder: String, leaf: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// Moves `from` (in this folder) to `to` in `folder` (a sub-folder),
    /// atomically, and only if `to` is free there: returns false if it
    /// exists. Never replaces a file; the same fallback as above.
    public func renameWithoutReplacing(_ from: String, into folder: Folder, as to: String) throws(IOFailure) -> Bool {
        do {
            try Sys.renameNoReplace(descriptor.rawValue, from, into: folder.descriptor.rawValue, to)
            return true
        } catch {
            if error.errno == .fileExists { return false }
            guard error.errno == .invalidArgument || error.errno == .notImplemented else { throw error }
        }
        do {
            try Sys.linkAt(descriptor.rawValue, from, into: folder.descriptor.rawValue, to)
        } catch {
            if error.errno == .fileExists { return false }
            throw error
        }
        remove(from)
        return true
    }

    /// The folder `path` beneath this one, the missing folders of it created
    /// (mode 0755) one by one beneath their parent: a component that exists
    /// as a file or a symbolic link fails (`subfolder`), never followed.
    public func makeSubfolders(_ path: some StringProtocol) throws(IOFailure) -> Folder {
        var current = self
        for component in path.split(separator: "/") {
            do {
                try Sys.makeDirectoryAt(current.descriptor.rawValue, String(component), mode: 0o755)
            } catch {
                if error.errno != .fileExists { throw error }
            }
            current = try current.subfolder(component)
        }
        return current
    }
}
