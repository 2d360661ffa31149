import Foundation
import Testing
import VigilTestSupport
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilTooling
@testable import VigilStore

/// The alert view's invariants, as properties over generated events (the bench workload: every
/// format, about 1% detections, sshd bursts for the brute-force correlation) and the corpus
/// logs (sshd failures and auditd records), each with seeded random variations, on SQLite and,
/// when `VIGIL_TEST_POSTGRES` names a server, on PostgreSQL too.
/// `VIGIL_PROPERTY_SEED` picks other seeds.
@Suite(.runsOn(.busy)) struct AlertInvariantTests {
    /// The stores the invariants run on.
    static let backends = TestBackend.available

    static let seed = ProcessInfo.processInfo.environment["VIGIL_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_202
    static let ruleSet = RuleSet.load(paths: ["default"]).ruleSet
    /// Formats whose records are one line each, so lines can be shuffled and split freely.
    static let lineFormats: [SourceFormat] = [.json, .syslog, .cef, .osquery, .mobileThreatDefense, .unifiedLog]
    static let corpusLogs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/logs").standardized

    /// The corpus logs of `format` in `folder`.
    static func corpus(_ folder: String, _ format: SourceFormat) throws -> [(format: SourceFormat, path: String)] {
        let directory = corpusLogs.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".log") }.sorted()
            .map { (format, directory.appendingPathComponent($0).path) }
    }

    /// (rule, machine, event count) of every alert, sorted.
    static func alertCounts(_ store: TestStore, where condition: String = "TRUE") throws -> [String] {
        try store.lines("""
            SELECT a.rule_id || ' ' || m.hostname || ' ' || a.event_count AS line FROM alerts a JOIN machines m ON m.id = a.machine_id
            WHERE \(condition) ORDER BY 1
            """)
    }

    /// Imports `files` into a fresh store, each through an integration that takes its format.
    static func importFiles(_ files: [(format: SourceFormat, path: String)], into backend: TestBackend, in workspace: TemporaryDirectory,
                            batchSize: Int = 8_192, hostname: String = "default-host") throws -> (TestStore, BatchOutcome) {
        let store = try TestStore(backend, in: workspace)
        let pipeline = try store.pipeline(ruleSet: ruleSet)
        pipeline.batchSize = batchSize
        var outcome = BatchOutcome()
        for file in files {
            let integration = try #require(IntegrationCatalogue.builtin.first { $0.formats.contains(file.format.rawValue) })
            outcome += try pipeline.importFiles([file.path], format: .fixed(file.format), integration: integration.name, actor: "test",
                                                defaultHostname: hostname).outcome
        }
        return (store, outcome)
    }

    /// Order and batching: the same events, each file's lines shuffled within runs of a few
    /// seconds (well inside the 10-minute lateness) and split into random batches, give the same
    /// alerts. A correlation whose group spans machines (brute force by source address) is raised
    /// on the machine whose event completed its window, which arrival order may change: for those,
    /// the occurrences per group are compared.
    @Test(arguments: backends) func shuffledAndRebatchedInputGivesTheSameAlerts(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let files = try BenchWorkload.write(events: 6_000, to: workspace.url, formats: Self.lineFormats)
            + Self.corpus("syslog_auth/crowdsec", .syslog)
        var random = SplitMix64(seed: Self.seed)
        var shuffled: [(format: SourceFormat, path: String)] = []
        for (index, file) in files.enumerated() {
            var lines = try String(contentsOfFile: file.path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
            var start = 0
            while start < lines.count {
                let end = min(lines.count, start + Int.random(in: 2...6, using: &random))
                lines[start..<end].shuffle(using: &random)
                start = end
            }
            let path = workspace.path("shuffled-\(index).log")
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            shuffled.append((file.format, path))
        }
        let (original, _) = try Self.importFiles(files, into: backend, in: workspace)
        let (rebatched, _) = try Self.importFiles(shuffled, into: backend, in: workspace, batchSize: Int.random(in: 7...300, using: &random))
        let correlations = Self.ruleSet.correlations.map { "'\($0.info.id)'" }.joined(separator: ",")
        func occurrences(_ store: TestStore) throws -> [String] {
            try store.lines("SELECT rule_id || ' ' || dedupe_key AS line FROM alerts WHERE rule_id IN (\(correlations)) ORDER BY 1")
        }
        #expect(try !occurrences(original).isEmpty)
        #expect(try occurrences(rebatched) == occurrences(original), "seed \(Self.seed)")
        let expected = try Self.alertCounts(original, where: "a.rule_id NOT IN (\(correlations))")
        #expect(expected.count > 20)
        let actual = try Self.alertCounts(rebatched, where: "a.rule_id NOT IN (\(correlations))")
        #expect(actual == expected, "seed \(Self.seed); only in the original: \(Set(expected).subtracting(actual)); only shuffled: \(Set(actual).subtracting(expected))")
    }

    /// Two machines sending identical records: twice the events, and the same alerts on each.
    @Test(arguments: backends) func twoMachinesSendingTheSameRecordsGetTheSameAlertsEach(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        // ClamAV scans and auditd records without a node name take the machine from the import.
        let files = try BenchWorkload.write(events: 3_000, to: workspace.url, formats: [.clamav, .auditd, .santa])
            + Self.corpus("auditd/crowdsec", .auditd)
        let store = try TestStore(backend, in: workspace)
        let pipeline = try store.pipeline(ruleSet: Self.ruleSet)
        for host in ["twin-a", "twin-b"] {
            for file in files {
                let integration = try #require(IntegrationCatalogue.builtin.first { $0.formats.contains(file.format.rawValue) })
                _ = try pipeline.importFiles([file.path], format: .fixed(file.format), integration: integration.name, actor: "test", defaultHostname: host)
            }
        }
        let perMachine = try store.lines("""
            SELECT m.hostname || ' ' || COUNT(*) AS line FROM events e JOIN machines m ON m.id = e.machine_id GROUP BY m.hostname ORDER BY 1
            """).map { $0.split(separator: " ").map(String.init) }
        let named = perMachine.filter { $0[0].hasPrefix("twin-") }
        #expect(named.count == 2 && named[0][1] == named[1][1], "\(perMachine)")
        let a = try Self.alertCounts(store, where: "m.hostname = 'twin-a'").map { $0.replacingOccurrences(of: " twin-a ", with: " ") }
        let b = try Self.alertCounts(store, where: "m.hostname = 'twin-b'").map { $0.replacingOccurrences(of: " twin-b ", with: " ") }
        #expect(!a.isEmpty)
        #expect(a == b)
    }

    /// No hidden detection: every detection of a stored event raises an alert or folds into an
    /// open one, and the summary says which; counted independently with a detector and a correlator.
    @Test(arguments: backends) func everyDetectionRaisesOrFoldsAndTheSummarySaysWhich(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let files = try BenchWorkload.write(events: 5_000, to: workspace.url)
        var detections = 0
        var seen: Set<EventKey?> = []
        let correlator = Correlator(ruleSet: Self.ruleSet)
        for file in files {
            let reader = try BatchReader(source: ByteSource(path: file.path), format: file.format,
                                         context: ParserContext(integration: "count", defaultHostname: "default-host"), ruleSet: Self.ruleSet)
            while let batch = try reader.next() {
                // A record seen before is a duplicate: the store skips it, and so does this count.
                for item in batch.items where seen.insert(item.key).inserted {
                    detections += correlator.correlate(event: item.event, key: item.key?.identity ?? 0, detections: item.detections, now: .now()).count
                }
            }
        }
        let (store, outcome) = try Self.importFiles(files, into: backend, in: workspace)
        #expect(detections > 50)
        #expect(outcome.alertsRaised + outcome.alertsUpdated == detections)
        #expect(try store.lines("SELECT COUNT(*) || '' AS line FROM alerts") == ["\(outcome.alertsRaised)"])
    }

    /// Clocks: one event with a wild timestamp, added to any input, leaves every other alert unchanged.
    @Test(arguments: backends, ["9999-12-31T23:59:59Z", "1970-01-01T00:00:01Z", "2100-06-01T00:00:00Z"])
    func oneWildClockChangesNoOtherAlert(on backend: TestBackend, wildTime: String) throws {
        let workspace = TemporaryDirectory()
        let files = try BenchWorkload.write(events: 4_000, to: workspace.url, formats: Self.lineFormats)
        let (plain, _) = try Self.importFiles(files, into: backend, in: workspace)
        var random = SplitMix64(seed: Self.seed)
        // The wild events: an EICAR and an sshd failure from an address the workload's brute-force
        // bursts use (so it falls in a correlation group), each at a random place in the JSON file.
        let json = try #require(files.first { $0.format == .json })
        var lines = try String(contentsOfFile: json.path, encoding: .utf8).split(separator: "\n").map(String.init)
        let wild = [
            #"{"@timestamp":"\#(wildTime)","host":{"name":"web-01","os":{"platform":"linux"}},"logsource":{"category":"antivirus"},"Signature":"Win.Test.EICAR_HDB-1","Filename":"/tmp/wild-clock"}"#,
            #"{"@timestamp":"\#(wildTime)","host":{"name":"host-10","os":{"platform":"linux"}},"logsource":{"product":"linux","service":"sshd"},"SourceIp":"198.51.100.0","message":"Failed password for root from 198.51.100.0 port 1 ssh2 wild-clock"}"#,
        ]
        for line in wild { lines.insert(line, at: Int.random(in: 0...lines.count, using: &random)) }
        let wildPath = workspace.path("wild.ndjson")
        try (lines.joined(separator: "\n") + "\n").write(toFile: wildPath, atomically: true, encoding: .utf8)
        let withWild = files.map { $0.format == .json ? (SourceFormat.json, wildPath) : $0 }
        let (disturbed, _) = try Self.importFiles(withWild, into: backend, in: workspace)
        let untouched = "a.id NOT IN (SELECT ae.alert_id FROM alert_events ae JOIN events e ON e.id = ae.event_id WHERE e.raw LIKE '%wild-clock%')"
        #expect(try Self.alertCounts(disturbed, where: untouched) == Self.alertCounts(plain), "wild time \(wildTime)")
    }
}
