import Testing
import VigilTestSupport
import VigilDetection
import VigilModel
import VigilPipeline
import VigilStore

/// The Correlator's decisions, with no database: a ledger in memory answers its questions.
@Suite(.runsOn(.busy)) struct CorrelatorTests {
    /// Stored alerts as the Correlator may ask about them; records what it asked.
    final class LedgerInMemory: AlertLedger {
        struct Alert {
            var id: Int64, rule: String, machine: Int64, hostname: String, dedupeKey: String
            var first: Int64, last: Int64, open: Bool, incident: Int64?, indicators: [Indicator] = []
        }
        var alerts: [Alert] = []
        var askedWindows: [Duration] = []

        func openAlert(rule: String, machineID: Int64, dedupeKey: String, firstTime: Timestamp, time: Timestamp, window: Duration) -> Int64? {
            askedWindows.append(window)
            let span = window.microseconds
            return alerts.last { alert in
                alert.rule == rule && alert.machine == machineID && alert.dedupeKey == dedupeKey && alert.open
                    && max(alert.last, time.microseconds) - min(alert.first, firstTime.microseconds) <= span
            }?.id
        }

        func latestAlert(rule: String, machineID: Int64, dedupeKey: String) -> Int64? {
            alerts.last { $0.rule == rule && $0.machine == machineID && $0.dedupeKey == dedupeKey }?.id
        }

        func incidentOnMachine(_ machineID: Int64, near time: Timestamp, window: Duration) -> Int64? {
            latest(alerts.filter { $0.machine == machineID && $0.incident != nil && near($0, time, window) })?.incident
        }

        func incidentSharing(_ indicator: Indicator, otherThan machineID: Int64, near time: Timestamp, window: Duration) -> (incident: Int64, hostname: String)? {
            latest(alerts.filter { $0.machine != machineID && $0.indicators.contains(indicator) && $0.incident != nil && near($0, time, window) })
                .map { ($0.incident!, $0.hostname) }
        }

        func incidentOfRule(_ rule: String, otherThan machineID: Int64, near time: Timestamp, window: Duration) -> (incident: Int64, hostname: String)? {
            latest(alerts.filter { $0.rule == rule && $0.machine != machineID && $0.incident != nil && near($0, time, window) })
                .map { ($0.incident!, $0.hostname) }
        }

        /// Of the alerts that qualify, the one the stores pick: the latest, then the newer incident.
        private func latest(_ candidates: [Alert]) -> Alert? {
            candidates.max { ($0.last, $0.incident ?? 0) < ($1.last, $1.incident ?? 0) }
        }

        private func near(_ alert: Alert, _ time: Timestamp, _ window: Duration) -> Bool {
            alert.last >= time.microseconds - window.microseconds && alert.first <= time.microseconds + window.microseconds
        }
    }

    static let rule = RuleInfo(id: "r1", title: "Suspicious shell", severity: .high, dedupeFields: [FieldKey("User")])

    static func event(host: String = "web-01", user: String = "alice", seconds: Double, fields: [EventField] = []) -> Event {
        Event(time: Timestamp(seconds: seconds), machine: MachineIdentity(hostname: host, platform: .linux),
              sourceFormat: "json", integration: "json", logSource: LogSource(product: "linux"),
              fields: [EventField(FieldKey("User"), user)] + fields, raw: "{}", line: 1)
    }

    let correlator = Correlator(ruleSet: RuleSet(rules: []), dedupeWindow: .seconds(3600))
    let detection = Detection(rule: Self.rule, matchedFields: [])

    @Test func aRepeatInsideTheWindowFoldsIntoTheOpenAlert() throws {
        let ledger = LedgerInMemory()
        ledger.alerts = [.init(id: 7, rule: "r1", machine: 1, hostname: "web-01", dedupeKey: "alice", first: 1_000_000_000, last: 1_000_000_000,
                               open: true, incident: 3)]
        let decision = try correlator.decide(detection, event: Self.event(seconds: 1_600), machineID: 1, ledger: ledger)
        #expect(decision == .fold(AlertFold(alertID: 7, firstEventTime: Timestamp(seconds: 1_600), lastEventTime: Timestamp(seconds: 1_600))))
        #expect(ledger.askedWindows == [.seconds(3600)])
    }

    @Test func anotherDedupeValueOpensItsOwnAlertInTheMachinesIncident() throws {
        let ledger = LedgerInMemory()
        ledger.alerts = [.init(id: 7, rule: "r1", machine: 1, hostname: "web-01", dedupeKey: "alice", first: 1_000_000_000, last: 1_000_000_000,
                               open: true, incident: 3)]
        let decision = try correlator.decide(detection, event: Self.event(user: "bob", seconds: 1_600), machineID: 1, ledger: ledger)
        guard case .open(let alert) = decision else { Issue.record("expected a new alert, got \(decision)"); return }
        #expect(alert.dedupeKey == "bob")
        #expect(alert.previousAlertID == nil)
        #expect(alert.incident == .join(id: 3, reason: "same machine web-01 within 24h"))
    }

    @Test func aResolvedAlertNeverAbsorbsButIsNamedAsPrevious() throws {
        let ledger = LedgerInMemory()
        ledger.alerts = [.init(id: 7, rule: "r1", machine: 1, hostname: "web-01", dedupeKey: "alice", first: 1_000_000_000, last: 1_000_000_000,
                               open: false, incident: nil)]
        let decision = try correlator.decide(detection, event: Self.event(seconds: 1_001), machineID: 1, ledger: ledger)
        guard case .open(let alert) = decision else { Issue.record("expected a new alert, got \(decision)"); return }
        #expect(alert.previousAlertID == 7)
        #expect(alert.incident == .create(title: "Suspicious shell on web-01", reason: "first alert: Suspicious shell on web-01"))
    }

    @Test func theWindowIsAnchoredOnTheAlertsFirstEvent() throws {
        let ledger = LedgerInMemory()
        // Open since t=1000 and last seen at t=4000: t=4700 is within an hour of the last event, not of the first.
        ledger.alerts = [.init(id: 7, rule: "r1", machine: 1, hostname: "web-01", dedupeKey: "alice", first: 1_000_000_000, last: 4_000_000_000,
                               open: true, incident: nil)]
        let decision = try correlator.decide(detection, event: Self.event(seconds: 4_700), machineID: 1, ledger: ledger)
        guard case .open(let alert) = decision else { Issue.record("expected a new alert, got \(decision)"); return }
        #expect(alert.previousAlertID == 7)
    }

    @Test func anIndicatorSharedWithAnotherMachineJoinsItsIncident() throws {
        let ledger = LedgerInMemory()
        let hash = Indicator(kind: "sha256", value: String(repeating: "ab", count: 32))
        ledger.alerts = [.init(id: 9, rule: "other", machine: 2, hostname: "db-01", dedupeKey: "", first: 1_000_000_000, last: 1_000_000_000,
                               open: true, incident: 5, indicators: [hash])]
        let event = Self.event(seconds: 1_500, fields: [EventField(FieldKey("sha256"), hash.value.uppercased())])
        let decision = try correlator.decide(detection, event: event, machineID: 1, ledger: ledger)
        guard case .open(let alert) = decision else { Issue.record("expected a new alert, got \(decision)"); return }
        #expect(alert.indicators == [hash])
        #expect(alert.incident == .join(id: 5, reason: "web-01 shares sha256 \(hash.value) with db-01"))
    }

    @Test func theSameRuleOnAnotherMachineWithinTheBurstWindowJoinsItsIncident() throws {
        let ledger = LedgerInMemory()
        ledger.alerts = [.init(id: 9, rule: "r1", machine: 2, hostname: "db-01", dedupeKey: "alice", first: 1_000_000_000, last: 1_000_000_000,
                               open: true, incident: 5)]
        let near = try correlator.decide(detection, event: Self.event(seconds: 1_000 + 3_600), machineID: 1, ledger: ledger)
        guard case .open(let joined) = near else { Issue.record("expected a new alert, got \(near)"); return }
        #expect(joined.incident == .join(id: 5, reason: "'Suspicious shell' fired on web-01 and db-01 within 1h"))
        let far = try correlator.decide(detection, event: Self.event(seconds: 1_000 + 3_601), machineID: 1, ledger: ledger)
        guard case .open(let alone) = far else { Issue.record("expected a new alert, got \(far)"); return }
        #expect(alone.incident == .create(title: "Suspicious shell on web-01", reason: "first alert: Suspicious shell on web-01"))
    }

    @Test func aCorrelationFoldsFromItsWindowsFirstEventAndKeepsItsLinks() throws {
        let ledger = LedgerInMemory()
        let fired = Detection(rule: Self.rule, matchedFields: [], relatedEventKeys: [11, 12], windowStart: Timestamp(seconds: 900))
        let decision = try correlator.decide(fired, event: Self.event(seconds: 1_000), machineID: 1, ledger: ledger)
        guard case .open(let alert) = decision else { Issue.record("expected a new alert, got \(decision)"); return }
        #expect(alert.firstEventTime == Timestamp(seconds: 900))
        #expect(alert.lastEventTime == Timestamp(seconds: 1_000))
        #expect(alert.relatedEventKeys == [11, 12])
    }
}
