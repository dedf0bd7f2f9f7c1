import Foundation
import PPlus2POSIX
import PPlus2TestSupport
import Testing

/// `SocketToFile` moves socket bytes into a file with `splice(2)`; where the
/// kernel refuses splice (some file systems, old kernels) it must fall back to
/// `recv` + `write` without losing or repeating a byte.
@Suite struct SocketToFileTests {
    private func transfer(_ bytes: [UInt8], mock: SyscallMock) throws -> (written: [UInt8], calls: [String]) {
        let temporary = try TemporaryFolder()
        defer { temporary.remove() }
        let listener = try TCPSocket.listen(address: 0x7F00_0001, port: 0)
        let client = try TCPSocket.connect(address: 0x7F00_0001, port: try listener.localAddress().port, timeout: 2)
        #expect(listener.descriptor.waitUntilReadable(timeout: 2))
        let server = try #require(try listener.accept())
        try client.send(bytes, idleTimeout: 2)
        client.shutdownWrite()

        let folder = try Folder.open(creatingIfMissing: temporary.path)
        let file = try folder.createExclusive("received")
        let mover = SocketToFile()
        try mock.run {
            while try mover.move(from: server, to: file, limit: 1 << 20, timeout: 2) > 0 {}
        }
        return (readFile(temporary.file("received")) ?? [], mock.calls)
    }

    @Test func splicesWhenTheKernelCan() throws {
        let bytes = randomBytes(300_000, seed: 3)
        let result = try transfer(bytes, mock: SyscallMock())
        #expect(result.written == bytes)
        #expect(result.calls.contains("splice"))
        #expect(!result.calls.contains("recv"))
    }

    @Test(arguments: [Errno.invalidArgument, Errno.notImplemented])
    func fallsBackToReceiveAndWriteWhenTheSocketCannotSplice(_ error: Errno) throws {
        let bytes = randomBytes(300_000, seed: 4)
        let result = try transfer(bytes, mock: SyscallMock(["splice": [.failure(error)]]))
        #expect(result.written == bytes)
        // Refused once, then never tried again: recv and write carry the rest.
        #expect(result.calls.count { $0 == "splice" } == 1)
        #expect(result.calls.contains("recv") && result.calls.contains("write"))
    }

    @Test func drainsThePipeWhenTheFileCannotSplice() throws {
        let bytes = randomBytes(300_000, seed: 5)
        // The first splice (socket to pipe) runs; the second (pipe to file) is refused.
        let mock = SyscallMock(["splice": [.shortened(.max), .failure(.invalidArgument)]])
        let result = try transfer(bytes, mock: mock)
        #expect(result.written == bytes)
        #expect(result.calls.count { $0 == "splice" } == 2)
        #expect(result.calls.contains("read"))  // the bytes already in the pipe, drained
    }

    @Test func aFileThatTakesNothingIsAWriteFailure() throws {
        let bytes = randomBytes(1000, seed: 6)
        let mock = SyscallMock(["splice": [.shortened(.max), .result(0)]])
        #expect(throws: SocketToFile.Failure.writing(.wroteNothing)) { try transfer(bytes, mock: mock) }
    }
}
