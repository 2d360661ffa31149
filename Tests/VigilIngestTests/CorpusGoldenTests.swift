import Foundation
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel

let corpusLogs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/logs").standardized

/// Everything one corpus file yields through its parser.
struct ParsedCorpusFile {
    var format: SourceFormat
    var records = 0
    var events: [Event] = []
    var rejected: [RejectedRecord] = []
    var skipped = 0
}

/// The present the golden files were parsed at: yearless syslog stamps and records without a
/// time depend on it.
let goldenNow = Timestamp(year: 2026, month: 12, day: 1)!

func parseCorpusFile(_ relativePath: String, format explicit: SourceFormat? = nil) throws -> ParsedCorpusFile {
    var stream = try EventStream(path: corpusLogs.appendingPathComponent(relativePath).path, format: explicit,
                                 context: ParserContext(integration: "test", defaultHostname: "testhost", now: goldenNow))
    var result = ParsedCorpusFile(format: stream.format)
    // Small batches, so records cross batch boundaries.
    result.records = try stream.forEachBatch(limit: 7) { result.events += $0; result.rejected += $1 }
    result.skipped = stream.skippedRecords
    return result
}

@Suite(.runsOn(.busy)) struct CorpusGoldenTests {
    /// file, detected format, records, events, rejected, skipped.
    static let expectations: [(String, SourceFormat, Int, Int, Int, Int)] = [
        ("android_ios/azure-sentinel_BetterMTDIncidentLog_CL.json", .mobileThreatDefense, 7, 7, 0, 0),
        ("auditd/crowdsec/auditd-base64-exec.log", .auditd, 4, 4, 0, 0),
        ("auditd/crowdsec/auditd-logs.log", .auditd, 4, 4, 0, 0),
        ("auditd/crowdsec/auditd-postexploit-exec-from-net.log", .auditd, 3, 3, 0, 0),
        ("auditd/crowdsec/auditd-postexploit-rm.log", .auditd, 10, 10, 0, 0),
        ("auditd/crowdsec/auditd-suid-crash.log", .auditd, 13, 15, 0, 0),
        ("auditd/go-libaudit/auparse_testdata_audit-rhel6.log", .auditd, 2, 2, 0, 0),
        ("auditd/go-libaudit/auparse_testdata_audit-rhel7.log", .auditd, 50, 54, 0, 0),
        ("auditd/go-libaudit/auparse_testdata_audit-ubuntu14.log", .auditd, 1, 1, 0, 0),
        ("auditd/go-libaudit/auparse_testdata_audit-ubuntu16.log", .auditd, 3, 3, 0, 0),
        ("auditd/go-libaudit/auparse_testdata_audit-ubuntu17.log", .auditd, 1, 1, 0, 0),
        ("auditd/go-libaudit/auparse_testdata_test2.log", .auditd, 10, 10, 0, 0),
        ("auditd/go-libaudit/auparse_testdata_test3.log", .auditd, 17, 18, 0, 0),
        ("auditd/go-libaudit/testdata_normal.log", .auditd, 17, 19, 0, 0),
        ("auditd/otrf/sh_arp_cache_2020-11-10074812.log", .auditd, 12, 14, 0, 0),
        ("auditd/otrf/sh_binary_padding_dd_2020-11-10081941.log", .auditd, 6, 7, 0, 0),
        ("cef_av/azure-sentinel_WithSecure_CEF_first15.txt", .cef, 15, 15, 0, 0),
        ("clamav/clamd_clamav.log", .clamav, 57, 57, 0, 0),
        ("clamav/clamdscan_l.log", .clamav, 10, 4, 0, 6),
        ("clamav/clamscan_l.log", .clamav, 21, 9, 0, 12),
        ("clamav/clamscan_stdout.txt", .clamav, 21, 10, 0, 11),
        ("macos_jamf_protect/elastic-integrations_jamf-protect-telemetry_first5.ndjson", .jamfProtect, 5, 5, 0, 0),
        ("macos_santa/elastic-integrations_test-santa-raw.log", .santa, 17, 17, 0, 0),
        ("osquery/elastic-integrations_osquery_result_first10.ndjson", .osquery, 10, 10, 0, 0),
        ("syslog_auth/crowdsec/pam-logs_pam-logs.log", .syslog, 2, 2, 0, 0),
        ("syslog_auth/crowdsec/ssh-bf_ssh-bf.log", .syslog, 6, 6, 0, 0),
        ("syslog_auth/crowdsec/ssh-slow-bf_ssh-slow-bf.log", .syslog, 22, 22, 0, 0),
        ("syslog_auth/crowdsec/ssh-time-based-bf_ssh-time-based-bf.log", .syslog, 15, 15, 0, 0),
        ("syslog_auth/crowdsec/ssh-timeout_ssh-timeout.log", .syslog, 8, 8, 0, 0),
        ("syslog_auth/crowdsec/sshd-bad-keyexchange-bf_sshd-bad-keyexchange-bf.log", .syslog, 19, 19, 0, 0),
        ("syslog_auth/crowdsec/sshd-invalid-bf_sshd-invalid-bf.log", .syslog, 6, 6, 0, 0),
        ("syslog_auth/crowdsec/sshd-logs-fp_sshd-logs.log", .syslog, 6, 6, 0, 0),
        ("syslog_auth/crowdsec/sshd-logs_sshd-logs.log", .syslog, 24, 24, 0, 0),
        ("syslog_auth/crowdsec/sshd-refused-conn_sshd-refused-conn.log", .syslog, 1, 1, 0, 0),
        ("syslog_auth/crowdsec/sshd-success-logs_sshd-success-logs.log", .syslog, 4, 4, 0, 0),
        ("syslog_auth/crowdsec/sshd_banner_exchange_sshd_banner_exchange.log", .syslog, 12, 12, 0, 0),
        ("syslog_auth/crowdsec/syslog-logs_syslog-logs.log", .syslog, 3, 3, 0, 0),
        ("sysmon_linux/elastic-integrations_sysmon_linux_sample_first44.log", .sysmonLinux, 44, 30, 0, 14),
    ]

    /// Every normalized event of a corpus file, one JSON object per line, against
    /// `Golden/<file>.jsonl`. `UPDATE_GOLDEN=1 swift test --filter CorpusGoldenTests` rewrites
    /// them; review the diff before committing it.
    @Test(arguments: expectations.map(\.0))
    func normalizedEventsMatchTheirGoldenFile(file: String) throws {
        let parsed = try parseCorpusFile(file)
        let rendered = parsed.events.map(Self.goldenLine).joined(separator: "\n") + "\n"
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(file).jsonl")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(rendered.utf8).write(to: golden)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        let got = rendered.split(separator: "\n", omittingEmptySubsequences: false)
        let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
        if let index = zip(got, want).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("""
                \(file): event \(index + 1) differs from Golden/\(file).jsonl
                  got:      \(got[index])
                  expected: \(want[index])
                If the change is intended, run UPDATE_GOLDEN=1 swift test --filter CorpusGoldenTests and review the diff.
                """)
        }
        #expect(got.count == want.count, "\(file): \(got.count - 1) events, the golden file has \(want.count - 1)")
    }

    /// One event as a golden line: everything a parser decides, except the raw text (the corpus's own).
    static func goldenLine(_ event: Event) -> String {
        func text(_ value: String?) -> String { value.map(JSONText.quoted) ?? "null" }
        let source = event.logSource
        return """
            {"line":\(event.line),"time":\(text(event.time.iso8601)),"hostname":\(text(event.machine.hostname)),\
            "platform":\(text(event.machine.platform.rawValue)),"os_version":\(text(event.machine.osVersion)),\
            "format":\(text(event.sourceFormat)),"product":\(text(source.product)),"category":\(text(source.category)),\
            "service":\(text(source.service)),"fields":\(JSONText.object(fields: event.fields))}
            """
    }

    @Test func everyCorpusFileIsPinned() throws {
        let enumerator = FileManager.default.enumerator(atPath: corpusLogs.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            let isData = !path.hasPrefix("_licenses") && !path.hasSuffix(".md") && !path.hasSuffix(".hdb") && !path.hasSuffix(".yaml")
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: corpusLogs.appendingPathComponent(path).path, isDirectory: &isDirectory)
            if isData && !isDirectory.boolValue { files.append(path) }
        }
        #expect(files.sorted() == Self.expectations.map(\.0).sorted())
    }

    @Test(arguments: expectations)
    func countsAndDetectedFormat(file: String, format: SourceFormat, records: Int, events: Int, rejected: Int, skipped: Int) throws {
        let parsed = try parseCorpusFile(file)
        #expect(parsed.format == format)
        #expect(parsed.records == records)
        #expect(parsed.events.count == events)
        #expect(parsed.rejected.count == rejected, "\(parsed.rejected)")
        #expect(parsed.skipped == skipped)
    }

    @Test func sysmonForLinuxProcessAndNetworkEvents() throws {
        let parsed = try parseCorpusFile("sysmon_linux/elastic-integrations_sysmon_linux_sample_first44.log")
        let network = try #require(parsed.events.first { $0.logSource.category == "network_connection" && $0.value(of: FieldKey("DestinationPort")) == "443" })
        #expect(network.machine.hostname == "james-ubuntu-demo")
        #expect(network.machine.platform == .linux)
        #expect(network.value(of: FieldKey("DestinationIp")) == "34.120.127.130")
        #expect(parsed.events.filter { $0.logSource.category == "process_creation" }.count == 6)
        #expect(parsed.events.allSatisfy { $0.logSource.product == "linux" })
    }

    @Test func santaExecAndFileEvents() throws {
        let parsed = try parseCorpusFile("macos_santa/elastic-integrations_test-santa-raw.log")
        let exec = try #require(parsed.events.first)
        #expect(exec.logSource == LogSource(product: "macos", category: "process_creation"))
        #expect(exec.value(of: FieldKey("Image")) == "/usr/libexec/xpcproxy")
        #expect(exec.value(of: FieldKey("CommandLine")) == "xpcproxy com.apple.CoreAuthentication.agent")
        #expect(exec.time == Timestamp(parsing: "2022-05-12T11:38:03.923Z"))
        #expect(exec.machine.hostname == "testhost")
        #expect(parsed.events.contains { $0.logSource.category == "file_event" && $0.value(of: FieldKey("TargetFilename")) == "/private/var/db/SystemPolicy-journal" })
    }

    @Test func jamfProtectExecBecomesProcessCreation() throws {
        let parsed = try parseCorpusFile("macos_jamf_protect/elastic-integrations_jamf-protect-telemetry_first5.ndjson")
        let exec = try #require(parsed.events.first { $0.logSource.category == "process_creation" })
        #expect(exec.machine.platform == .macos)
        #expect(exec.machine.osVersion == "14.5")
        #expect(exec.value(of: FieldKey("Image")) != nil)
        #expect(exec.value(of: FieldKey("CommandLine")) != nil)
    }

    @Test func osqueryResultsNameTheirHost() throws {
        let parsed = try parseCorpusFile("osquery/elastic-integrations_osquery_result_first10.ndjson")
        let first = try #require(parsed.events.first)
        #expect(first.machine.hostname == "192-168-0-4.rdsnet.ro")
        #expect(first.time == Timestamp(seconds: 1_514_472_008))
        #expect(first.value(of: FieldKey("path")) == "/private/var/vm")
        #expect(first.logSource.service == "osquery")
    }

    @Test func clamavDetectionsCarryTheirSignatureAndHash() throws {
        let parsed = try parseCorpusFile("clamav/clamd_clamav.log")
        let found = parsed.events.filter { $0.logSource.category == "antivirus" }
        #expect(found.count == 12)
        let eicar = try #require(found.first)
        #expect(eicar.value(of: FieldKey("Filename")) == "/srv/avtest/downloads/eicar.com")
        #expect(eicar.value(of: FieldKey("Signature")) == "Win.Test.EICAR_HDB-1.UNOFFICIAL")
        #expect(eicar.value(of: FieldKey("md5")) == "44d88612fea8a8f36de82e1278abb02f")
        #expect(eicar.time == Timestamp(parsing: "2026-11-27T20:23:36Z"))
        let scan = try parseCorpusFile("clamav/clamscan_l.log")
        #expect(scan.events.allSatisfy { $0.time == Timestamp(parsing: "2026-11-27T20:23:21Z") })
    }

    @Test func cefHeaderAndExtensionsAreUnescaped() throws {
        let parsed = try parseCorpusFile("cef_av/azure-sentinel_WithSecure_CEF_first15.txt")
        let first = try #require(parsed.events.first)
        #expect(first.value(of: FieldKey("DeviceVendor")) == "F-Secure")
        #expect(first.value(of: FieldKey("suser")) == #"DESKTOP-UCETTHQ\gtn-user"#)
        #expect(first.value(of: FieldKey("Infected object")) == "hxxp://unrated.fstestdomain.com")
        #expect(first.time == Timestamp(microseconds: 1_661_507_240_000_000))
        #expect(parsed.events.contains { $0.value(of: FieldKey("Signature")) == "EICAR_Test_File" })
    }

    @Test func mobileThreatDefenseIncidentsBecomeAndroidMachines() throws {
        let parsed = try parseCorpusFile("android_ios/azure-sentinel_BetterMTDIncidentLog_CL.json")
        let first = try #require(parsed.events.first)
        #expect(first.machine.platform == .android)
        #expect(first.machine.osVersion == "6.0.1")
        #expect(first.logSource == LogSource(product: "android", category: "antivirus"))
        #expect(first.value(of: FieldKey("Signature")) == "Port scanning detected")
        #expect(first.time == Timestamp(parsing: "2020-01-14T12:55:08Z"))
        // Every vendor spelling in the corpus: "Android" and "Apple" (an iPhone or iPad, never a Mac).
        #expect(Set(parsed.events.map(\.machine.platform)) == [.android, .ios])
        #expect(parsed.events.filter { $0.value(of: FieldKey("DevicePlatform_s")) == "Apple" }.allSatisfy {
            $0.machine.platform == .ios && $0.logSource.product == "ios"
        })
        #expect(parsed.events.filter { $0.machine.platform == .ios }.count == 2)
    }

    @Test func syslogServicesAndYearInference() throws {
        let parsed = try parseCorpusFile("syslog_auth/crowdsec/pam-logs_pam-logs.log")
        #expect(parsed.events.allSatisfy { $0.logSource.service == "sudo" })
        let now = Timestamp(parsing: "2026-01-05T00:00:00Z")!
        // December, seen in early January, belongs to last year.
        let header = try #require(SyslogParser.header("Dec  7 14:53:04 host sudo: x", now: now))
        #expect(header == Timestamp(parsing: "2025-12-07T14:53:04Z"))
        #expect(SyslogParser.header("Jan  4 10:00:00 host sshd[1]: x", now: now) == Timestamp(parsing: "2026-01-04T10:00:00Z"))
    }

    @Test(arguments: [
        (SourceFormat.auditd, "sh_arp_cache.log", "type=SYSCALL msg=audit(1604996384.965"),
        (.sysmonLinux, "sysmon.log", "Oct 24 17:05:38 host sysmon: <Event><System><EventID>1</EventID>"),
        (.santa, "santa.log", "[2022-05-12T11:38:03.923Z] I santad: decision=ALLOW"),
        (.cef, "cef.txt", "CEF:0|Vendor|Product"),
        (.clamav, "clam.log", "Fri Nov 27 20:23:36 2026 - /x: Eicar-Signature(44d8"),
        (.json, "x.json", "{\"a\":"),
        (.osquery, "q.json", "{\"name\":\"x\",\"hostIdentifier\":\"h\"}"),
        (.mobileThreatDefense, "m.json", "{\"DevicePlatform_s\":\"iOS\"}"),
    ])
    func malformedRecordsAreRejectedNotGarbage(format: SourceFormat, name: String, text: String) throws {
        // Truncated or missing required parts: each must be a rejection with a reason.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bad-\(UUID().uuidString)-\(name)").path
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (events, rejections) = try parseFile(path, format: format)
        #expect(events.isEmpty, "\(format) made an event of '\(text)'")
        #expect(rejections.count == 1)
        #expect(rejections.first.map { !$0.reason.isEmpty } == true)
    }

    @Test func aWrongExplicitFormatRejectsEveryRecord() throws {
        let parsed = try parseCorpusFile("macos_santa/elastic-integrations_test-santa-raw.log", format: .auditd)
        #expect(parsed.events.isEmpty)
        #expect(parsed.rejected.count == parsed.records)
    }
}
