import Foundation
import PPlus2TestSupport
import Testing

@testable import PPlus2POSIX

/// The layer that touches the kernel, with a scripted kernel under it
/// (`SyscallMock`, after swift-system's `MockingTest`): each test makes one call
/// fail the way the kernel does and checks what the real code does next, and
/// which calls it made.
@Suite struct KernelDoorTests {
    /// A connected pair of loopback TCP sockets.
    private func connectedPair() throws -> (client: TCPSocket, server: TCPSocket) {
        let listener = try TCPSocket.listen(address: 0x7F00_0001, port: 0)
        let port = try listener.localAddress().port
        let client = try TCPSocket.connect(address: 0x7F00_0001, port: port, timeout: 2)
        #expect(listener.descriptor.waitUntilReadable(timeout: 2))
        return (client, try #require(try listener.accept()))
    }

    @Test func interruptedCallsAreRetriedInTheDoor() throws {
        let (client, server) = try connectedPair()
        try client.send(Array("hello".utf8), idleTimeout: 2)
        let mock = SyscallMock(["recv": [.failure(.interrupted), .failure(.interrupted)]])
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = try mock.run { try server.receive(into: &buffer, timeout: 2) }
        #expect(Array(buffer[..<count]) == Array("hello".utf8))
        #expect(mock.count(of: "recv") == 3)  // two interrupted, then the real one
    }

    @Test func wouldBlockWaitsForDataInsteadOfFailing() throws {
        let (client, server) = try connectedPair()
        try client.send([7, 8, 9], idleTimeout: 2)
        let mock = SyscallMock(["recv": [.failure(.wouldBlock)]])
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = try mock.run { try server.receive(into: &buffer, timeout: 2) }
        #expect(Array(buffer[..<count]) == [7, 8, 9])
        #expect(mock.calls.filter { $0 == "recv" || $0 == "poll" } == ["recv", "poll", "recv"])
        // Read without waiting, nothing there: nil, not an error.
        let now = try mock.run { try buffer.withUnsafeMutableBytes { try server.receiveNow(into: $0) } }
        #expect(now == nil)
    }

    @Test func otherErrorsCarryTheCallAndTheErrno() throws {
        let (_, server) = try connectedPair()
        let mock = SyscallMock(["recv": [.failure(.connectionReset)]])
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(throws: IOFailure.system(call: "recv", errno: .connectionReset)) {
            try mock.run { _ = try server.receive(into: &buffer, timeout: 2) }
        }
        #expect(IOFailure.system(call: "recv", errno: .connectionReset).description == "recv: connection reset by peer")
    }

    @Test func shortSendsAreCompleted() throws {
        let (client, server) = try connectedPair()
        let message = Array("a message sent in three pieces".utf8)
        let mock = SyscallMock(["send": [.shortened(1), .shortened(4)]])
        try mock.run { try client.send(message, idleTimeout: 2) }
        #expect(mock.count(of: "send") == 3)
        // Each retry asks for what is left, on the same descriptor.
        let fd = client.descriptor.rawValue
        #expect(
            mock.trace.filter { $0.name == "send" }
                == [30, 29, 25].map { .init(name: "send", descriptor: fd, count: $0) }
        )
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while received.count < message.count {
            let count = try server.receive(into: &buffer, timeout: 2)
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        #expect(received == message)
    }

    @Test func shortFileWritesAreCompletedAndAZeroWriteIsAnError() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let folder = try Folder.open(creatingIfMissing: temporary.path)
        let file = try folder.createExclusive("out")
        let bytes = randomBytes(10_000, seed: 1)
        let mock = SyscallMock(["write": [.shortened(3), .shortened(100), .shortened(1)]])
        try mock.run { try bytes.withUnsafeBytes { buffer in try FileWriting.writeAll(file, buffer) } }
        #expect(mock.count(of: "write") == 4)
        #expect(readFile(temporary.file("out")) == bytes)

        let full = SyscallMock(["write": [.result(0)]])
        #expect(throws: IOFailure.wroteNothing) {
            try full.run { try bytes.withUnsafeBytes { buffer in try FileWriting.writeAll(file, buffer) } }
        }
    }

    @Test(arguments: [Errno.invalidArgument, Errno.notImplemented])
    func renameFallsBackToLinkAndUnlinkWithoutRenameat2(_ error: Errno) throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("partial"), [1, 2, 3])
        try writeFile(temporary.file("taken"), [9])
        let folder = try Folder.open(creatingIfMissing: temporary.path)

        let mock = SyscallMock(["renameat2": [.failure(error), .failure(error)]])
        let renamed = try mock.run { try folder.renameWithoutReplacing("partial", to: "final") }
        #expect(renamed)
        #expect(mock.calls == ["renameat2", "linkat", "unlinkat"])
        #expect(readFile(temporary.file("final")) == [1, 2, 3])
        #expect(readFile(temporary.file("partial")) == nil)

        // The fallback never replaces either: a taken name is refused, the source stays.
        let refused = try mock.run { try folder.renameWithoutReplacing("final", to: "taken") }
        #expect(!refused)
        #expect(readFile(temporary.file("taken")) == [9])
        #expect(readFile(temporary.file("final")) == [1, 2, 3])
    }

    @Test func renameWithRenameat2NeverReplaces() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("a"), [1])
        try writeFile(temporary.file("b"), [2])
        let folder = try Folder.open(creatingIfMissing: temporary.path)
        let mock = SyscallMock()
        #expect(try mock.run { try folder.renameWithoutReplacing("a", to: "b") } == false)
        #expect(mock.calls == ["renameat2"])
        #expect(readFile(temporary.file("b")) == [2])
    }
}

/// The records `inotify(7)` reads: each event's name, NUL-padded, and the
/// flags that say what to do with it.
@Suite struct FolderWatchParsingTests {
    func record(mask: Int32, name: String, padding: Int = 4, watch: UInt32 = 1) -> [UInt8] {
        var bytes: [UInt8] = []
        let name = Array(name.utf8) + [UInt8](repeating: 0, count: name.isEmpty ? 0 : padding)
        for word in [watch, UInt32(bitPattern: mask), 0, UInt32(name.count)] {
            bytes += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: word >> UInt32($0)) }
        }
        return bytes + name
    }

    @Test func eachRecordBecomesOneEvent() {
        let bytes =
            record(mask: IN_CREATE, name: "a.txt") + record(mask: IN_Q_OVERFLOW, name: "")
            + record(mask: IN_MOVED_FROM, name: "b", padding: 15) + record(mask: IN_ATTRIB, name: "")
            + record(mask: IN_CLOSE_WRITE, name: "c") + record(mask: IN_DELETE_SELF, name: "")
        #expect(
            FolderWatch.parse(bytes[...]) == [
                .changed(Array("a.txt".utf8)), .overflow, .removed([UInt8(ascii: "b")]), .changed([UInt8(ascii: "c")]),
                .folderGone,
            ]
        )
        // A record cut short ends the batch: nothing is made up from half a record.
        let cut = record(mask: IN_CREATE, name: "a") + record(mask: IN_CREATE, name: "abc").dropLast(2)
        #expect(FolderWatch.parse(cut[...]) == [.changed([UInt8(ascii: "a")])])
    }

    /// Events of a sub-folder's watch name entries by their path; folders
    /// that appear or go are news of their own; a sub-folder's own removal
    /// is not the top folder gone.
    @Test func aSubFolderWatchNamesEntriesByPath() {
        let folders: [CInt: String] = [1: "", 2: "a/b"]
        let bytes =
            record(mask: IN_CLOSE_WRITE, name: "c.txt", watch: 2)
            + record(mask: IN_CREATE | IN_ISDIR, name: "d", watch: 2)
            + record(mask: IN_MOVED_FROM | IN_ISDIR, name: "a") + record(mask: IN_DELETE_SELF, name: "", watch: 2)
            + record(mask: IN_CREATE, name: "x", watch: 9)
        #expect(
            FolderWatch.parse(bytes[...], top: 1) { folders[$0] } == [
                .changed(Array("a/b/c.txt".utf8)), .folderAdded(Array("a/b/d".utf8)), .folderRemoved(Array("a".utf8)),
            ]
        )
    }
}

/// A download's write-back: each step handed to the disk as it is written,
/// the one two steps back waited for; a file system without it is no error.
@Suite struct WriteBackTests {
    @Test func stepsAreHandedToTheDiskAsTheFileGrows() throws {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        try writeFile(temporary.file("f"), [1])
        let file = try FileReading.open(temporary.file("f"))
        let step = Int(WriteBack.step)
        let mock = SyscallMock(["sync_file_range": [.failure(.invalidArgument)]])
        var writeBack = WriteBack(from: 0)
        mock.run { writeBack.wrote(step - 1, to: file) }
        #expect(mock.count(of: "sync_file_range") == 0)
        mock.run { writeBack.wrote(1, to: file) }  // step 0 handed (and refused: ignored)
        #expect(mock.count(of: "sync_file_range") == 1)
        mock.run { writeBack.wrote(2 * step + step / 2, to: file) }  // steps 1 and 2, and the wait for 0
        #expect(mock.count(of: "sync_file_range") == 4)
        // Resumed 5 steps in: counted from there.
        var resumed = WriteBack(from: 5 * WriteBack.step)
        mock.run { resumed.wrote(step, to: file) }
        #expect(mock.count(of: "sync_file_range") == 6)  // step 5 handed, step 3 waited for
    }
}
