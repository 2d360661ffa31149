import Foundation
import Testing
import VigilDetection
import VigilTestSupport
import VigilTooling
@testable import VigilStore
import VigilModel
import VigilPipeline

/// The writer's WAL is copied into the database file by a thread of its own, not inside the
/// writer's commits; once the writer goes, SQLite's autocheckpoint takes over again.
@Suite(.runsOn(.busy)) struct CheckpointTests {
    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// About 10 MiB of events: more than the 1,000 WAL pages that call for a checkpoint.
    static func write(_ committer: BatchCommitter, batch: Int) throws {
        let padding = String(repeating: "x", count: 1_000)
        let items = (0..<5_000).map {
            BatchItem(event: sampleEvent(raw: "batch \(batch) event \($0) \(padding)", seconds: Double(1_000 + $0)), detections: [])
        }
        _ = try committer.write(items, rejected: [], recordsRead: items.count, importID: nil)
    }

    @Test func theWALIsCheckpointedOffTheWritersThreadWhileTheWriterLives() throws {
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        let sizeBefore = Self.fileSize(workspace.databasePath)
        let checkpointer: WALCheckpointer
        do {
            let writer = StoreWriter(store: store)
            let committer = BatchCommitter(writer: writer, correlator: Correlator(ruleSet: RuleSet(rules: [])))
            checkpointer = writer.checkpointer
            for batch in 0..<2 { try Self.write(committer, batch: batch) }
            // The thread copies the WAL into the database file after the commits returned.
            let deadline = Date().addingTimeInterval(20)
            while Self.fileSize(workspace.databasePath) < sizeBefore + 5_000_000 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(Self.fileSize(workspace.databasePath) >= sizeBefore + 5_000_000, "the WAL was never checkpointed")
            #expect(checkpointer.isRunning)
        }
        // The writer is gone: its thread has finished, and the commits checkpoint inline again.
        #expect(!checkpointer.isRunning)
        let sizeAfterWriter = Self.fileSize(workspace.databasePath)
        try store.connection.transaction {
            let insert = try store.connection.statement("INSERT INTO audit_log (time, actor, action, target, details) VALUES (0, 'test', 'fill', 't', ?)")
            for _ in 0..<3_000 { try insert.bind(String(repeating: "y", count: 4_000)).run() }
        }
        #expect(Self.fileSize(workspace.databasePath) > sizeAfterWriter + 8_000_000, "SQLite's autocheckpoint ran inside the commit")
    }
}
