import Foundation
import Testing
import VigilTestSupport
import VigilDetection
import VigilIngest
import VigilModel

/// Vigil's detections on the corpus auditd logs against pySigma's (../shared/corpus/expected),
/// with the SigmaHQ rules as vendored into the default pack (`sigmahq`, embedded from
/// rules/sigmahq/). The oracle ran over otrf/*.log, go-libaudit/auparse_testdata_*.log and
/// crowdsec/*.log.
@Suite(.runsOn(.busy)) struct OracleTests {
    struct Match: Hashable, CustomStringConvertible {
        var ruleID: String
        var file: String
        var line: Int
        var description: String { "\(ruleID) \(file):\(line)" }
    }

    @Test func auditdRecordDetectionsEqualTheOracle() throws {
        let corpus = URL(fileURLWithPath: corpusRoot)
        let oracleData = try Data(contentsOf: corpus.appendingPathComponent("expected/oracle_auditd_detections.json"))
        let oracle = try #require(try JSONSerialization.jsonObject(with: oracleData) as? [String: Any])
        var expected: Set<Match> = []
        for detection in oracle["detections"] as? [[String: Any]] ?? [] {
            for match in detection["matches"] as? [[String: Any]] ?? [] {
                expected.insert(Match(ruleID: detection["rule_id"] as! String, file: match["file"] as! String, line: match["line"] as! Int))
            }
        }
        let loaded = RuleSet.load(paths: ["sigmahq"])
        #expect(loaded.ruleSet.rules.count == 323)
        var detector = Detector(ruleSet: loaded.ruleSet)
        var actual: Set<Match> = []
        var processCreation: Set<Match> = []
        var records = 0
        for folder in ["otrf", "go-libaudit", "crowdsec"] {
            let directory = corpus.appendingPathComponent("logs/auditd/\(folder)")
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".log") && name != "testdata_normal.log" {
                let (events, _) = try parseFile(directory.appendingPathComponent(name).path, format: .auditd)
                for event in events {
                    var detections: [Detection] = []
                    detector.detect(event, into: &detections)
                    if event.logSource.service == "auditd" { records += 1 }
                    for detection in detections {
                        let match = Match(ruleID: detection.rule.id, file: name, line: event.line)
                        if event.logSource.category == "process_creation" { processCreation.insert(match) } else { actual.insert(match) }
                    }
                }
            }
        }
        #expect(records == oracle["records"] as? Int)
        #expect(actual == expected, "missing: \(expected.subtracting(actual)), extra: \(actual.subtracting(expected))")
        // Grouped EXECVE records also run the process_creation rules, which a per-record engine cannot:
        // `arp -a` in the OTRF dataset is Linux Remote System Discovery.
        #expect(processCreation == [Match(ruleID: "11063ec2-de63-4153-935e-b1a8b9e616f1", file: "sh_arp_cache_2020-11-10074812.log", line: 1)])
    }
}
