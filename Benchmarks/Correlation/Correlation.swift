import Benchmark
import Foundation
import VigilDetection
import VigilIngest
import VigilModel

/// The built-in SSH brute-force correlation over failed logins from 50 addresses.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.instructions, .mallocCountTotal, .throughput, .wallClock], scalingFactor: .kilo, maxDuration: .seconds(3))
    let ruleSet = RuleSet.builtin()
    var parser = SyslogParser(context: ParserContext(integration: "bench"))
    var events: [Event] = []
    for index in 0..<1_000 {
        let line = String(format: "Mar  3 10:%02d:%02d web-01 sshd[1]: Failed password for root from 198.51.100.%d port 4000 ssh2", index / 60 % 60, index % 60, index % 50)
        _ = parser.parse(RawRecord(line: index + 1, text: line), into: &events)
    }
    let failures = events
    var detector = Detector(ruleSet: ruleSet)
    let detections: [[Detection]] = failures.map { event in
        var found: [Detection] = []
        detector.detect(event, into: &found)
        return found
    }
    Benchmark("Correlate 1k sshd failures") { benchmark in
        for _ in benchmark.scaledIterations {
            let engine = CorrelationEngine(ruleSet: ruleSet)
            var raised = 0
            for (index, event) in failures.enumerated() {
                raised += engine.process(event: event, key: Int64(index), detections: detections[index]).count
            }
            blackHole(raised)
        }
    }
}
