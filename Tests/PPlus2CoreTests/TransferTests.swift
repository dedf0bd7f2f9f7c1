import PPlus2Core
import Testing

/// The rules of one answer on its way, with numbers for time and bytes.
@Suite struct TransferTests {
    let rules = Transfer.Rules(minimumRate: 1000, graceSeconds: 5, idleSeconds: 30)

    @Test func bytesThenTheFileRangeThenComplete() {
        var transfer = Transfer(bytes: [1, 2, 3], fileOffset: 10, fileCount: 100, isList: false, rules: rules, now: 0)
        #expect(transfer.bytesLeft == 3 && !transfer.isComplete)
        transfer.sentBytes(2, now: 1)
        #expect(transfer.bytesLeft == 1)
        transfer.withBytesLeft { #expect(Array($0) == [3]) }
        transfer.sentBytes(1, now: 1)
        #expect(transfer.bytesLeft == 0 && !transfer.isComplete)
        transfer.sentFile(60, now: 2)
        transfer.sentFile(40, now: 2)
        #expect(transfer.isComplete && transfer.fileOffset == transfer.fileEnd && transfer.written == 103)
        #expect(transfer.verdict(now: 3, unacknowledged: 50) == .complete)
    }

    @Test func aFileThatEndsEarlyIsCompleteButShortOfItsEnd() {
        var transfer = Transfer(bytes: [], fileOffset: 0, fileCount: 100, isList: false, rules: rules, now: 0)
        transfer.sentFile(30, now: 1)
        transfer.fileEnded()
        #expect(transfer.isComplete && transfer.fileOffset != transfer.fileEnd)
    }

    @Test func aSlowReaderIsCaughtOnWhatItAcknowledgedOnceTheGraceIsOver() {
        var transfer = Transfer(bytes: [], fileOffset: 0, fileCount: 1_000_000, isList: false, rules: rules, now: 0)
        transfer.sentFile(20_000, now: 1)  // written, but the caller took only 2,000
        #expect(transfer.verdict(now: 4, unacknowledged: 18_000) == .carryOn, "within the grace")
        #expect(transfer.verdict(now: 6, unacknowledged: 18_000) == .tooSlow)
        #expect(transfer.verdict(now: 6, unacknowledged: 0) == .carryOn, "20,000 taken: 20 s at the rate")
        #expect(transfer.verdict(now: 21, unacknowledged: 0) == .tooSlow)
    }

    @Test func aReaderThatStopsIsIdleAndAListMustBeTakenWholeInTime() {
        var file = Transfer(bytes: [], fileOffset: 0, fileCount: 1 << 30, isList: false, rules: rules, now: 0)
        file.sentFile(1 << 29, now: 1)
        #expect(file.verdict(now: 30, unacknowledged: 0) == .carryOn)
        #expect(file.verdict(now: 31, unacknowledged: 0) == .idle)
        var list = Transfer(bytes: Array(repeating: 0, count: 1 << 20), isList: true, rules: rules, now: 0)
        for second in 1..<30 { list.sentBytes(2000, now: Double(second)) }  // twice the rate
        #expect(list.verdict(now: 29.5, unacknowledged: 0) == .carryOn)
        #expect(list.verdict(now: 30, unacknowledged: 0) == .idle, "a list answer has 30 s in all")
    }
}
