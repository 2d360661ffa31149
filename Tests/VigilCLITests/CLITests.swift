#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import Testing
import VigilTooling

/// Runs the built `vigil` binary and captures its output and exit code.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func vigilBinary() -> URL {
    // Tests run from the build products folder, next to the `vigil` executable.
    var folder = Bundle.main.bundleURL
    for _ in 0..<3 {
        let candidate = folder.appendingPathComponent("vigil")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        folder.deleteLastPathComponent()
    }
    let built = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/vigil").standardized
    return built
}

/// Runs `vigil` and waits for it on a thread of its own, so that a long command never holds one of
/// the few cooperative threads that the in-process server tests running alongside need.
@discardableResult
func vigil(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], in directory: URL) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try runVigil(arguments, stdin: stdin, environment: environment, in: directory) })
        }
    }
}

extension Process {
    /// Waits for the process to end on a thread of its own (see `vigil(_:stdin:environment:in:)`).
    func exited() async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                self.waitUntilExit()
                continuation.resume()
            }
        }
    }
}

private func runVigil(_ arguments: [String], stdin: String?, environment: [String: String], in directory: URL) throws -> CommandResult {
    let process = Process()
    process.executableURL = vigilBinary()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

let sampleEvents = """
    {"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"web-01","os":{"platform":"linux","version":"22.04"}},"logsource":{"category":"antivirus"},"Signature":"Win.Test.EICAR_HDB-1","Filename":"/tmp/eicar.com.txt"}
    {"@timestamp":"2026-11-27T10:00:05Z","host":{"name":"mbp","os":{"platform":"macos","version":"14.5"}},"logsource":{"category":"process_creation"},"Image":"/bin/ls","CommandLine":"ls"}
    this line is broken
    {"@timestamp":"2026-11-27T10:00:09Z","hostname":"pixel","os_platform":"android","logsource":{"category":"antivirus"},"Signature":"Android.Banker.Anubis"}
    """

@Suite struct CLITests {
    @Test func initImportAlertsInEveryFormat() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("events.ndjson", sampleEvents)
        #expect(try await vigil(["init"], in: scratch.url).status == 0)
        #expect(try await vigil(["integration", "on", "json"], in: scratch.url).status == 0)
        let imported = try await vigil(["import", "--integration", "json", "--format", "json", "events.ndjson"], in: scratch.url)
        #expect(imported.status == 0)
        #expect(imported.stdout.contains("records read      4"))
        #expect(imported.stdout.contains("events stored     3"))
        #expect(imported.stdout.contains("rejected          1"))
        #expect(imported.stderr.contains("rejected line 3: invalid JSON at byte 1"))

        let table = try await vigil(["alerts"], in: scratch.url)
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("ID  SEVERITY"))
        #expect(table.stdout.contains("EICAR test file detected"))

        let json = try await vigil(["alerts", "--format", "json"], in: scratch.url)
        let alerts = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(alerts.count == 2)
        let eicar = try #require(alerts.first { $0["title"] as? String == "EICAR test file detected" })
        for key in ["id", "rule_id", "title", "severity", "status", "hostname", "os_platform", "event_count", "first_event_time",
                    "last_event_time", "incident_id", "integration", "author"] {
            #expect(eicar.keys.contains(key), "missing \(key)")
        }
        #expect(eicar["hostname"] as? String == "web-01")
        #expect(eicar["event_count"] as? Int == 1)

        let jsonl = try await vigil(["alerts", "--format", "jsonl", "--os", "android"], in: scratch.url)
        #expect(jsonl.stdout.split(separator: "\n").count == 1)
        #expect(jsonl.stdout.contains("\"title\":\"Antivirus detection: Android.Banker.Anubis\""))

        let csv = try await vigil(["alerts", "--format", "csv", "--severity", "high"], in: scratch.url)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("id,rule_id,title,severity") == true)
        #expect(lines.count == 3)

        let events = try await vigil(["events", "--format", "json", "--category", "process_creation"], in: scratch.url)
        let eventRows = try #require(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
        #expect(eventRows.count == 1)
        #expect((eventRows.first?["fields"] as? [String: Any])?["CommandLine"] as? String == "ls")

        let machines = try await vigil(["machines", "--format", "csv"], in: scratch.url)
        #expect(machines.stdout.split(separator: "\n").count == 4)
    }

    @Test func reimportIsIdempotent() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("events.ndjson", sampleEvents)
        let db = ["--db", "x.sqlite"]
        try await vigil(["integration", "on", "json"] + db, in: scratch.url)
        try await vigil(["import", "--integration", "json", "events.ndjson"] + db, in: scratch.url)
        let again = try await vigil(["import", "--integration", "json", "--json", "events.ndjson"] + db, in: scratch.url)
        #expect(again.status == 0)
        #expect(again.stdout.contains("\"events_stored\":0,\"rejected\":1,\"duplicates\":3,\"alerts_raised\":0"))
        let alerts = try await vigil(["alerts", "--format", "jsonl"] + db, in: scratch.url)
        #expect(alerts.stdout.split(separator: "\n").count == 2)
    }

    @Test func importFromStdinUsesVIGIL_DB() async throws {
        let scratch = TemporaryDirectory()
        let environment = ["VIGIL_DB": scratch.url.appendingPathComponent("env.sqlite").path]
        try await vigil(["integration", "on", "json"], environment: environment, in: scratch.url)
        let result = try await vigil(["import", "--integration", "json", "-"], stdin: sampleEvents, environment: environment, in: scratch.url)
        #expect(result.status == 0)
        #expect(FileManager.default.fileExists(atPath: environment["VIGIL_DB"]!))
        #expect(!FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("vigil.sqlite").path))
    }

    @Test func theGateRefusesWithExitCode3() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("events.ndjson", sampleEvents)
        let result = try await vigil(["import", "--integration", "json", "events.ndjson"], in: scratch.url)
        #expect(result.status == 3)
        #expect(result.stderr.contains("vigil integration on json"))
        #expect(try await vigil(["alerts", "--format", "jsonl"], in: scratch.url).stdout.isEmpty)
    }

    @Test(arguments: [["alerts", "--bogus"], ["alerts", "--severity", "huge"], ["import", "--integration", "json"], ["alerts", "--since", "someday"]])
    func badUsageExits64WithAUsageLine(arguments: [String]) async throws {
        let scratch = TemporaryDirectory()
        let result = try await vigil(arguments, in: scratch.url)
        #expect(result.status == 64)
        #expect(result.stderr.contains("Usage: vigil \(arguments[0])"), "stderr: \(result.stderr)")
    }

    @Test func detectionTestWritesTheEICARFile() async throws {
        let scratch = TemporaryDirectory()
        let result = try await vigil(["detection-test", "--output", "eicar.com.txt"], in: scratch.url)
        #expect(result.status == 0)
        let contents = try Data(contentsOf: scratch.url.appendingPathComponent("eicar.com.txt"))
        #expect(contents.count == 68)
        #expect(result.stdout.contains("EICAR-STANDARD-ANTIVIRUS-TEST-FILE"))
        #expect(result.stderr.contains("vigil import --integration clamav"))
    }

    @Test func demoPrintsAMultiOSAlertView() async throws {
        let scratch = TemporaryDirectory()
        let result = try await vigil(["demo", "--format", "json"], in: scratch.url)
        #expect(result.status == 0)
        let alerts = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(Set(alerts.compactMap { $0["os_platform"] as? String }) == ["linux", "macos", "ios", "android"])
        #expect(alerts.contains { $0["title"] as? String == "EICAR test file detected" })
    }
}

@Suite struct RuleCommandTests {
    @Test func checkReportsEveryCorpusRuleOK() async throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/sigma").standardized.path
        let result = try await vigil(["rules", "check", "--quiet", corpus, "builtin"], in: FileManager.default.temporaryDirectory)
        #expect(result.status == 0)
        #expect(result.stdout.hasSuffix("334 ok, 0 unsupported or broken, 0 skipped (status deprecated or unsupported)\n"))
    }

    @Test func aDisabledRuleRaisesNothing() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("events.ndjson", sampleEvents)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        #expect(try await vigil(["rules", "disable", "3c6b2a9e-5f0d-4e8a-9b7c-0e1d2f3a4b5c"], in: scratch.url).status == 0)
        try await vigil(["import", "--integration", "json", "events.ndjson"], in: scratch.url)
        let alerts = try await vigil(["alerts", "--format", "jsonl"], in: scratch.url)
        #expect(!alerts.stdout.contains("EICAR"))
        #expect(alerts.stdout.contains("Antivirus detection"))
        #expect(try await vigil(["rules", "list", "--format", "csv"], in: scratch.url).stdout.contains("vigil_eicar_test_file.yml,false"))
    }

    @Test func huntPrintsOneRecordPerMatchAndExitsZero() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("events.ndjson", sampleEvents)
        let result = try await vigil(["hunt", "--output-format", "jsonl", "events.ndjson"], in: scratch.url)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.contains("\"file\":\"events.ndjson\"") && $0.contains("\"line\":") && $0.contains("\"hostname\":") })
        #expect(result.stderr.contains("events.ndjson: json (detected), 3 events, 1 rejected records, 2 matches"))
        try scratch.write("clean.ndjson", #"{"a":"b"}"#)
        #expect(try await vigil(["hunt", "clean.ndjson"], in: scratch.url).status == 0)
    }
}

@Suite struct ServeCommandTests {
    @Test func sigtermStopsTheServerCleanlyWithExitZero() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        let port = Int.random(in: 20_000...32_000)
        let process = Process()
        process.executableURL = vigilBinary()
        process.arguments = ["serve", "--port", String(port)]
        process.currentDirectoryURL = scratch.url
        let err = Pipe()
        process.standardError = err
        process.standardOutput = err
        try process.run()
        #expect(try await ReliabilityTests.waitForHealth(port: port))
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("writer flushed and closed"))
        #expect(log.contains("path=/health status=200"))
    }
}

@Suite struct ParameterTests {
    @Test func aMistypedDatabaseIsAnErrorNotANewEmptyDatabase() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        for command in [["alerts"], ["machines"], ["events"], ["incidents"], ["audit"], ["alert", "show", "1"], ["check"]] {
            let result = try await vigil(command + ["--db", "typo.sqlite"], in: scratch.url)
            #expect(result.status != 0, "\(command)")
            #expect(result.stderr.contains("there is no Vigil database at typo.sqlite"), "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("typo.sqlite").path))
        #expect(try await vigil(["alerts"], in: scratch.url).status == 0)
    }

    @Test func statusesAndClassificationsAreOneVocabulary() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("events.ndjson", sampleEvents)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try await vigil(["import", "--integration", "json", "events.ndjson"], in: scratch.url)
        #expect(try await vigil(["alert", "update", "1", "--set-status", "in_progress", "--set-classification", "true-positive"], in: scratch.url).status == 0)
        for filter in [["--status", "in-progress"], ["--status", "in_progress"], ["--classification", "true-positive"], ["--classification", "true_positive"]] {
            let result = try await vigil(["alerts", "--format", "jsonl"] + filter, in: scratch.url)
            #expect(result.status == 0, "\(filter): \(result.stderr)")
            #expect(result.stdout.split(separator: "\n").count == 1, "\(filter)")
        }
        let wrong = try await vigil(["alerts", "--status", "done"], in: scratch.url)
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("new, in_progress, resolved"))
    }
}
