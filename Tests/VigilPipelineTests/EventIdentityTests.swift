import Crypto
import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
@testable import VigilStore

/// An event is its record on its machine through its integration: the same log from two
/// machines is two sets of events, and re-importing it for one machine adds nothing.
@Suite(.runsOn(.busy)) struct EventIdentityTests {
    static let scanLog = """
        /tmp/eicar.com.txt: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND
        /tmp/x.bin: Unix.Trojan.Mirai-1 FOUND
        Start Date: 2026:11:27 20:23:21

        """

    func importScan(_ store: Store, _ workspace: TemporaryDirectory, host: String) throws -> ImportSummary {
        let path = try workspace.write("scan.log", Self.scanLog)
        return try ImportPipeline(store: store, ruleSet: .builtin())
            .importFiles([path], format: .fixed(.clamav), integration: "clamav", actor: "test", defaultHostname: host)
    }

    @Test func theSameLogFromTwoMachinesIsStoredForEachAndAlertsOnEach() throws {
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        try store.setIntegration("clamav", enabled: true, actor: "test")
        #expect(try importScan(store, workspace, host: "web-01").outcome.stored == 2)
        let second = try importScan(store, workspace, host: "web-02")
        #expect(second.outcome.stored == 2)
        #expect(second.outcome.duplicates == 0)
        #expect(try importScan(store, workspace, host: "WEB-02").outcome.duplicates == 2, "host names compare case-insensitively, as machines do")
        #expect(try store.count(.events) == 4)
        let pairs = try store.alerts(AlertFilter()).map { "\($0.hostname) \($0.title)" }.sorted()
        #expect(pairs == ["web-01 Antivirus detection: Unix.Trojan.Mirai-1", "web-01 EICAR test file detected",
                          "web-02 Antivirus detection: Unix.Trojan.Mirai-1", "web-02 EICAR test file detected"])
    }

    @Test func theSameRecordThroughTwoIntegrationsIsTwoEvents() throws {
        let event = Event(time: Timestamp(seconds: 1_800_000_000), machine: MachineIdentity(hostname: "h", platform: .linux),
                          sourceFormat: "json", integration: "json", logSource: LogSource(category: "antivirus"),
                          fields: [], raw: #"{"a":1}"#, line: 1)
        var other = event
        other.integration = "mobile-threat-defense"
        var elsewhere = event
        elsewhere.machine.hostname = "h2"
        #expect(EventKey.compute(event) != EventKey.compute(other))
        #expect(EventKey.compute(event) != EventKey.compute(elsewhere))
        var shouted = event
        shouted.machine.hostname = "H"
        #expect(EventKey.compute(event) == EventKey.compute(shouted))
    }

    /// The migration's SQL function is `EventKey.compute`, even for a raw record that holds a
    /// NUL byte or a host name in capitals.
    @Test func theSQLKeyFunctionIsEventKeyCompute() throws {
        let workspace = TemporaryDirectory()
        let connection = try Connection(path: workspace.databasePath)
        try connection.registerEventKeyFunction()
        for (raw, category, host) in [("a\u{0}b", "antivirus" as String?, "Web-01"), ("plain", nil, "h"), ("é \u{0}", "x", "ÉCOLE")] {
            let time = Timestamp(microseconds: 1_764_237_600_000_000)
            let stored = try connection.statement("SELECT vigil_event_key(?, ?, ?, ?, ?, ?) AS key")
                .bind("clamav", category, time.microseconds, raw, host, "clamav").firstRow { $0.int("key") }
            #expect(stored == EventKey.compute(sourceFormat: "clamav", category: category, time: time, raw: raw, hostname: host, integration: "clamav"),
                    "\(raw.debugDescription)")
        }
    }

    /// A database written by schema 8, whose keys covered only format, category, time and raw
    /// text, is rekeyed on open: the file re-imported for its machine adds nothing, and for
    /// another machine it is stored.
    @Test func aVersion8DatabaseIsRekeyedByTheMigration() throws {
        let workspace = TemporaryDirectory()
        let connection = try Connection(path: workspace.databasePath)
        try connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
        for migration in Migrations.all where migration.version <= 8 {
            try connection.execute(migration.sql)
            try connection.statement("INSERT INTO schema_migrations VALUES (?, ?, 0)").bind(migration.version, migration.name).run()
        }
        try connection.execute("INSERT INTO machines (id, hostname, os_platform, first_seen, last_seen) VALUES (1, 'Web-01', 'linux', 0, 0)")
        // The rows schema 8's writer stored for the scan log above: key = SHA-256 of format, category, time, raw.
        let time = try #require(Timestamp(year: 2026, month: 11, day: 27, hour: 20, minute: 23, second: 21)).microseconds
        for (index, line) in Self.scanLog.split(separator: "\n").prefix(2).enumerated() {
            var hasher = SHA256()
            hasher.update(data: Array("clamav".utf8) + [0] + Array("antivirus".utf8) + [0])
            withUnsafeBytes(of: time.littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: Array(line.utf8))
            let key = hasher.finalize().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } >> 1
            try connection.statement("""
                INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, line)
                VALUES (?, ?, 1, 'clamav', 'clamav', 'linux', 'antivirus', 'clamav', '{}', ?, ?)
                """).bind(Int64(bitPattern: key), time, String(line), index + 1).run()
        }

        let store = try Store(path: workspace.databasePath)
        #expect(try store.schemaVersion() == Migrations.latestVersion)
        try store.setIntegration("clamav", enabled: true, actor: "test")
        let again = try importScan(store, workspace, host: "web-01")
        #expect(again.outcome.stored == 0)
        #expect(again.outcome.duplicates == 2)
        #expect(try importScan(store, workspace, host: "web-02").outcome.stored == 2)
        #expect(try store.count(.events) == 4)
    }
}
