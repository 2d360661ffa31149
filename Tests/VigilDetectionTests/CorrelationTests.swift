import Foundation
import Testing
import VigilTestSupport
import VigilDetection
import VigilModel

/// Runs events through detection and correlation the way the pipeline does.
struct CorrelationHarness {
    var detector: Detector
    let engine: CorrelationEngine
    var nextKey: Int64 = 1

    init(_ yaml: String) throws {
        let rules = try compile(yaml)
        detector = Detector(ruleSet: rules)
        engine = CorrelationEngine(ruleSet: rules)
    }

    /// Titles raised for an event with `fields` at `seconds` (event time).
    mutating func feed(_ seconds: Double, _ fields: String) -> [String] {
        let json = #"{"@timestamp":"\#(Timestamp(seconds: seconds).iso8601)","logsource":{"product":"test"},\#(fields)}"#
        let current = event(json)
        var detections: [Detection] = []
        detector.detect(current, into: &detections)
        nextKey += 1
        return engine.process(event: current, key: nextKey, detections: detections)
            .map { $0.continuesCorrelation ? $0.rule.title + " continued" : $0.rule.title }
    }
}

let baseRules = """
    title: failed
    id: r-failed
    name: failed
    logsource:
        product: test
    detection:
        selection:
            action: fail
        condition: selection
    ---
    title: success
    id: r-success
    name: success
    logsource:
        product: test
    detection:
        selection:
            action: ok
        condition: selection
    """

func correlation(_ body: String, generate: Bool = false) -> String {
    "title: corr\nid: r-corr\n" + (generate ? "generate: true\n" : "") + "correlation:\n"
        + body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\nlevel: high\n---\n" + baseRules
}

@Suite(.runsOn(.busy)) struct CorrelationTests {
    let eventCount = correlation("type: event_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 10s\ncondition:\n    gte: 3")

    @Test func firesExactlyAtTheTimespanButNotOneMillisecondPast() throws {
        var harness = try CorrelationHarness(eventCount)
        #expect(harness.feed(0, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(5, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(10, #""action":"fail","ip":"a""#) == ["corr"])

        var late = try CorrelationHarness(eventCount)
        _ = late.feed(0, #""action":"fail","ip":"a""#)
        _ = late.feed(5, #""action":"fail","ip":"a""#)
        #expect(late.feed(10.001, #""action":"fail","ip":"a""#).isEmpty)
    }

    @Test func aLateEventExactlyOneTimespanBeforeALaterOneCompletesTheWindow() throws {
        let pair = correlation("type: event_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 10s\ncondition:\n    gte: 2")
        var harness = try CorrelationHarness(pair)
        #expect(harness.feed(1010, #""action":"fail","ip":"a""#).isEmpty)
        // Out of order, within the lateness: the window [1000 s, 1010 s] ending at the later event holds both.
        #expect(harness.feed(1000, #""action":"fail","ip":"a""#) == ["corr"])

        var tooEarly = try CorrelationHarness(pair)
        _ = tooEarly.feed(1010, #""action":"fail","ip":"a""#)
        #expect(tooEarly.feed(999.999, #""action":"fail","ip":"a""#).isEmpty)
    }

    @Test func oneGroupsClockCannotMoveAnotherGroupsTime() throws {
        var harness = try CorrelationHarness(eventCount)
        // Group b is a day ahead (a machine with a wrong clock, within the allowed skew).
        #expect(harness.feed(86_400, #""action":"fail","ip":"b""#).isEmpty)
        #expect(harness.feed(0, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(5, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(10, #""action":"fail","ip":"a""#) == ["corr"])
    }

    @Test func aFutureDatedEventNeverEntersAWindow() throws {
        var harness = try CorrelationHarness(eventCount)
        let farFuture = try #require(Timestamp(year: 9999, month: 12, day: 31)).microseconds / 1_000_000
        // Dated past the skew: its own detection is raised (nothing hides it), no window sees it.
        #expect(harness.feed(Double(farFuture), #""action":"fail","ip":"a""#) == ["failed"])
        #expect(harness.feed(0, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(5, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(10, #""action":"fail","ip":"a""#) == ["corr"])
        #expect(harness.engine.isFutureDated(event(#"{"@timestamp":"9999-12-31T00:00:00Z"}"#)))
        #expect(!harness.engine.isFutureDated(event(#"{"@timestamp":"\#(Timestamp.now().iso8601)"}"#)))
    }

    @Test func generateFalseHidesTheBaseRuleAndGenerateTrueKeepsIt() throws {
        var hidden = try CorrelationHarness(eventCount)
        #expect(hidden.feed(0, #""action":"fail","ip":"a""#).isEmpty)
        var shown = try CorrelationHarness(correlation("type: event_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 10s\ncondition:\n    gte: 3", generate: true))
        #expect(shown.feed(0, #""action":"fail","ip":"a""#) == ["failed"])
        // A rule the correlation does not name alerts as usual.
        #expect(hidden.feed(1, #""action":"ok","ip":"a""#) == ["success"])
    }

    @Test func groupsSeparatelyAndAMissingGroupFieldIsItsOwnGroup() throws {
        var harness = try CorrelationHarness(eventCount)
        #expect(harness.feed(0, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(1, #""action":"fail","ip":"b""#).isEmpty)
        #expect(harness.feed(2, #""action":"fail""#).isEmpty)
        #expect(harness.feed(3, #""action":"fail","ip":"a""#).isEmpty)
        #expect(harness.feed(4, #""action":"fail""#).isEmpty)
        #expect(harness.feed(5, #""action":"fail""#) == ["corr"])
        #expect(harness.feed(6, #""action":"fail","ip":"a""#) == ["corr"])
    }

    @Test func firesOncePerWindowNotOncePerEvent() throws {
        var harness = try CorrelationHarness(eventCount)
        let raised = (0..<20).flatMap { harness.feed(Double($0) * 0.2, #""action":"fail","ip":"a""#) }
        // It fires once, at the third failure; each later one continues that occurrence (its alert counts it).
        #expect(raised == ["corr"] + Array(repeating: "corr continued", count: 17))
        // A window that starts after the fired one ended may fire again.
        #expect((0..<3).flatMap { harness.feed(20 + Double($0), #""action":"fail","ip":"a""#) } == ["corr"])
    }

    @Test func thresholdCrossedAndJustMissed() throws {
        let rule = correlation("type: event_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 60s\ncondition:\n    gt: 3\n    lte: 10")
        var crossed = try CorrelationHarness(rule)
        #expect((0..<4).flatMap { crossed.feed(Double($0), #""action":"fail","ip":"a""#) } == ["corr"])
        var missed = try CorrelationHarness(rule)
        #expect((0..<3).flatMap { missed.feed(Double($0), #""action":"fail","ip":"a""#) }.isEmpty)
    }

    @Test func valueCountCountsDistinctValues() throws {
        var harness = try CorrelationHarness(correlation("type: value_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 60s\ncondition:\n    field: user\n    gte: 3"))
        #expect(harness.feed(0, #""action":"fail","ip":"a","user":"root""#).isEmpty)
        #expect(harness.feed(1, #""action":"fail","ip":"a","user":"root""#).isEmpty)
        #expect(harness.feed(2, #""action":"fail","ip":"a","user":"admin""#).isEmpty)
        #expect(harness.feed(3, #""action":"fail","ip":"a","user":"oracle""#) == ["corr"])
    }

    @Test func temporalNeedsEveryRuleInTheWindow() throws {
        var harness = try CorrelationHarness(correlation("type: temporal\nrules: [failed, success]\ngroup-by: [user]\ntimespan: 30s"))
        #expect(harness.feed(0, #""action":"fail","user":"bob""#).isEmpty)
        #expect(harness.feed(10, #""action":"ok","user":"alice""#).isEmpty)
        #expect(harness.feed(20, #""action":"ok","user":"bob""#) == ["corr"])
    }

    @Test func temporalOrderedHandlesOutOfOrderArrival() throws {
        let rule = correlation("type: temporal_ordered\nrules: [failed, success]\ngroup-by: [user]\ntimespan: 60s")
        // The success arrives first but happened later: still a failed-then-success sequence.
        var lateFailure = try CorrelationHarness(rule)
        #expect(lateFailure.feed(30, #""action":"ok","user":"bob""#).isEmpty)
        #expect(lateFailure.feed(10, #""action":"fail","user":"bob""#) == ["corr"])
        // Success before failure in event time is not the sequence.
        var wrongOrder = try CorrelationHarness(rule)
        #expect(wrongOrder.feed(10, #""action":"ok","user":"bob""#).isEmpty)
        #expect(wrongOrder.feed(30, #""action":"fail","user":"bob""#).isEmpty)
    }

    @Test func aliasesGroupDifferentFieldsTogether() throws {
        let rule = correlation("type: temporal\nrules: [failed, success]\ngroup-by: [address]\ntimespan: 60s\naliases:\n    address:\n        failed: src\n        success: dst")
        var harness = try CorrelationHarness(rule)
        #expect(harness.feed(0, #""action":"fail","src":"10.0.0.1""#).isEmpty)
        #expect(harness.feed(5, #""action":"ok","dst":"10.0.0.9""#).isEmpty)
        #expect(harness.feed(6, #""action":"ok","dst":"10.0.0.1""#) == ["corr"])
    }

    @Test func stateSurvivesExportAndImport() throws {
        var first = try CorrelationHarness(eventCount)
        _ = first.feed(0, #""action":"fail","ip":"a""#)
        _ = first.feed(1, #""action":"fail","ip":"a""#)
        let saved = try first.engine.exportState()
        var second = try CorrelationHarness(eventCount)
        try second.engine.importState(saved)
        // The first event again (same content key, as in a re-import) changes nothing.
        #expect(second.feed(0, #""action":"fail","ip":"a""#).isEmpty)
        second.nextKey = 100
        #expect(second.feed(2, #""action":"fail","ip":"a""#) == ["corr"])
    }

    @Test func memoryIsBoundedByTheWindow() throws {
        var harness = try CorrelationHarness(correlation("type: event_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 10s\ncondition:\n    gte: 1000"))
        for index in 0..<2000 { _ = harness.feed(Double(index), #""action":"fail","ip":"a""#) }
        let stored = try #require(try harness.engine.exportState().first).state
        // 10 s window plus 600 s lateness, at one event per second.
        #expect(stored.components(separatedBy: "\"time\"").count - 1 <= 612)
    }

    @Test(arguments: [
        "type: event_count\nrules: [nosuch]\ngroup-by: [ip]\ntimespan: 10s\ncondition:\n    gte: 3",
        "type: event_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 10x\ncondition:\n    gte: 3",
        "type: value_count\nrules: [failed]\ngroup-by: [ip]\ntimespan: 10s\ncondition:\n    gte: 3",
        "type: sometimes\nrules: [failed]\ntimespan: 10s",
    ])
    func brokenCorrelationsAreReported(body: String) {
        #expect(throws: DetectionError.self) { try compile(correlation(body)) }
    }
}
