import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// Bad bytes around good records, for every format, through the whole import: the bad
/// record is rejected with a reason, the good ones land, and nothing crashes or hangs.
@Suite(.runsOn(.busy)) struct HostileInputTests {
    /// An import of `bytes` as `format` into a fresh store with the format's integration on.
    struct Imported {
        var summary: ImportSummary
        var store: TestStore
        let workspace: TemporaryDirectory
    }

    /// Every format on SQLite, and on PostgreSQL too when `VIGIL_TEST_POSTGRES` names a server
    /// (for the tests of bytes a store might refuse: invalid UTF-8, NUL, garbage, depth).
    static let formatsOnEachStore: [(SourceFormat, TestBackend)] =
        SourceFormat.allCases.flatMap { format in AlertInvariantTests.backends.map { (format, $0) } }

    static func importBytes(_ bytes: [UInt8], format: SourceFormat, name: String = "input.log", on backend: TestBackend = .sqlite) throws -> Imported {
        let workspace = TemporaryDirectory()
        let store = try TestStore(backend, in: workspace)
        let integration = IntegrationCatalogue.builtin.first { $0.formats.contains(format.rawValue) }!.name
        let path = workspace.url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let pipeline = try store.pipeline(ruleSet: .builtin())
        pipeline.batchSize = 3
        let summary = try pipeline.importFiles([path], format: .fixed(format), integration: integration, actor: "test", defaultHostname: "testhost")
        return Imported(summary: summary, store: store, workspace: workspace)
    }

    /// Two different well-formed records of `format`, as bytes with LF line ends.
    static func goodRecords(_ format: SourceFormat) -> (first: [UInt8], second: [UInt8]) {
        let first = BenchWorkload.sampleRecord(format, number: 1).joined(separator: "\n") + "\n"
        let second = BenchWorkload.sampleRecord(format, number: 2).joined(separator: "\n") + "\n"
        return (Array(first.utf8), Array(second.utf8))
    }

    /// The stored rejected records: (line, reason), in order.
    static func rejected(_ imported: Imported) throws -> [(line: Int, reason: String)] {
        try imported.store.lines("SELECT line || '|' || reason AS line FROM rejected_records ORDER BY id").map { text in
            let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            return (Int(parts[0]) ?? -1, parts.count > 1 ? String(parts[1]) : "")
        }
    }

    @Test(arguments: formatsOnEachStore)
    func invalidUTF8IsRejectedAndTheRecordsAroundItLand(format: SourceFormat, on backend: TestBackend) throws {
        let (first, second) = Self.goodRecords(format)
        let clean = try Self.importBytes(first + second, format: format, on: backend)
        let firstLines = first.filter { $0 == 0x0A }.count
        let hostile = try Self.importBytes(first + [0x7B, 0xFF, 0xFE, 0x22, 0xC3, 0x28, 0x0A] + second, format: format, on: backend)
        #expect(hostile.summary.outcome.stored == clean.summary.outcome.stored)
        #expect(hostile.summary.outcome.rejected == clean.summary.outcome.rejected + 1)
        let reasons = try Self.rejected(hostile).filter { $0.line == firstLines + 1 }.map(\.reason)
        #expect(reasons == ["invalid UTF-8 at byte 2"])
    }

    @Test(arguments: formatsOnEachStore)
    func nulBytesNeverCrashAndEveryRecordIsAccountedFor(format: SourceFormat, on backend: TestBackend) throws {
        let (first, second) = Self.goodRecords(format)
        var poisoned = second
        poisoned.insert(contentsOf: [0, 0, 0], at: poisoned.count / 2)
        let imported = try Self.importBytes(first + poisoned + [0, 0x0A], format: format, on: backend)
        let outcome = imported.summary.outcome
        // Every record was read, and each became events, a rejection or a skip: none vanished.
        #expect(imported.summary.recordsRead == Self.recordCount(first + poisoned) + 1)
        #expect(outcome.rejected >= 1)
        #expect(outcome.stored >= 1)
        #expect(try Self.rejected(imported).allSatisfy { !$0.reason.isEmpty })
    }

    @Test(arguments: formatsOnEachStore)
    func deeplyNestedInputIsRejectedWithADepthReason(format: SourceFormat, on backend: TestBackend) throws {
        let (first, second) = Self.goodRecords(format)
        let nested = Array((String(repeating: #"{"a":["#, count: 50_000) + "1").utf8) + [0x0A]
        let clean = try Self.importBytes(first + second, format: format, on: backend)
        let hostile = try Self.importBytes(first + nested + second, format: format, on: backend)
        #expect(hostile.summary.outcome.stored == clean.summary.outcome.stored)
        #expect(hostile.summary.outcome.rejected == clean.summary.outcome.rejected + 1)
        if [.json, .osquery, .eslogger, .jamfProtect, .unifiedLog, .mobileThreatDefense].contains(format) {
            let reasons = try Self.rejected(hostile).map(\.reason)
            #expect(reasons.contains { $0.contains("nest deeper than 64 levels") })
        }
    }

    @Test(arguments: SourceFormat.allCases)
    func mixedLineEndingsReadLikeLF(format: SourceFormat) throws {
        let (first, second) = Self.goodRecords(format)
        let crlf = Array(String(decoding: first, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let clean = try Self.importBytes(first + second, format: format)
        let mixed = try Self.importBytes(crlf + second, format: format)
        #expect(mixed.summary.outcome.stored == clean.summary.outcome.stored)
        #expect(mixed.summary.outcome.rejected == clean.summary.outcome.rejected)
        let raws = "SELECT raw AS line FROM events ORDER BY id"
        #expect(try mixed.store.lines(raws) == clean.store.lines(raws))
    }

    @Test(arguments: SourceFormat.allCases)
    func emptyAndBlankFilesImportNothingAndSucceed(format: SourceFormat) throws {
        for bytes in [[], Array(" \n\r\n\n".utf8)] as [[UInt8]] {
            let imported = try Self.importBytes(bytes, format: format)
            #expect(imported.summary.recordsRead == 0)
            #expect(imported.summary.outcome.stored == 0)
            #expect(try imported.store.lines("SELECT COUNT(*) || '' AS line FROM imports") == ["1"])
        }
    }

    @Test(arguments: formatsOnEachStore)
    func binaryGarbageIsRejectedRecordByRecord(format: SourceFormat, on backend: TestBackend) throws {
        var generator = SplitMix64(seed: 0xB1_0B)
        let garbage = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let imported = try Self.importBytes(garbage, format: format, on: backend)
        #expect(imported.summary.recordsRead == Self.recordCount(garbage))
        #expect(imported.summary.outcome.rejected > 0)
        #expect(imported.summary.outcome.stored + imported.summary.outcome.rejected + imported.summary.skipped >= imported.summary.recordsRead)
    }

    @Test func aTruncatedGzipKeepsWhatCameBeforeAndSaysWhere() throws {
        let lines = (1...2_000).map { BenchWorkload.sampleRecord(.json, number: $0)[0] }.joined(separator: "\n") + "\n"
        let compressed = try gzip(Array(lines.utf8))
        let truncated = Array(compressed.prefix(compressed.count / 2))
        let imported = try Self.importBytes(truncated, format: .json, name: "input.log.gz")
        #expect(imported.summary.outcome.stored > 100)
        #expect(imported.summary.outcome.stored < 2_000)
        let reasons = try Self.rejected(imported).map(\.reason)
        #expect(reasons.contains { $0.contains("truncated") })
    }

    @Test func aWrongFormatRejectsEveryRecordWithAReason() throws {
        let (first, second) = Self.goodRecords(.json)
        let imported = try Self.importBytes(first + second, format: .auditd)
        #expect(imported.summary.outcome.stored == 0)
        #expect(imported.summary.outcome.rejected == 2)
    }

    /// Non-blank lines, as the framer counts records in line mode.
    static func recordCount(_ bytes: [UInt8]) -> Int {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: true).filter { line in
            line.contains { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }
        }.count
    }
}

/// Compresses with the system gzip, as users' files are.
func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-c"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let writer = Thread { input.fileHandleForWriting.write(Data(bytes)); try? input.fileHandleForWriting.close() }
    writer.start()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}
