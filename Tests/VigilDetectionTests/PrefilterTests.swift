import Foundation
import Testing
import VigilTestSupport
@testable import VigilDetection
import VigilTooling
import VigilIngest
import VigilModel

/// The prefilter only skips rules that cannot match: on events built to hit every corpus
/// rule, the detector (with prefilter) finds exactly what evaluating every rule finds.
@Suite(.runsOn(.busy)) struct PrefilterTests {
    /// One value per field test that satisfies its first text pattern.
    static func satisfyingFields(_ node: MatchNode, into fields: inout [String: String]) {
        switch node {
        case .and(let children), .or(let children), .atLeast(_, let children):
            for child in children { satisfyingFields(child, into: &fields) }
        case .not, .constant, .keywords:
            break
        case .field(let test):
            guard test.presence == .values, fields[test.key.name] == nil, let first = test.tests.first else { return }
            switch first {
            case .text(let pattern):
                let needle = String(decoding: pattern.kind == .glob ? pattern.requiredLiteral : pattern.needle, as: UTF8.self)
                switch pattern.kind {
                case .equals: fields[test.key.name] = needle
                case .prefix: fields[test.key.name] = needle + " tail"
                case .suffix: fields[test.key.name] = "/head/" + needle
                default: fields[test.key.name] = "head " + needle + " tail"
                }
            case .anyText(let merged):
                if let needle = merged.literalNeedles?.first { fields[test.key.name] = "/x/" + String(decoding: needle, as: UTF8.self) }
            default:
                break
            }
        }
    }

    @Test func theDetectorFindsWhatEvaluatingEveryRuleFinds() throws {
        let ruleSet = RuleSet.load(paths: [corpusRoot + "/sigma", "builtin"]).ruleSet
        var detector = Detector(ruleSet: ruleSet)
        var events: [Event] = []
        var parser = JSONEventParser(context: ParserContext(integration: "test"))
        for rule in ruleSet.rules {
            var fields: [String: String] = [:]
            Self.satisfyingFields(rule.node, into: &fields)
            var object: [String: Any] = fields
            object["logsource"] = ["product": rule.info.logSource.product ?? "linux", "category": rule.info.logSource.category ?? "", "service": rule.info.logSource.service ?? ""]
            let data = try JSONSerialization.data(withJSONObject: object)
            _ = parser.parse(RawRecord(line: events.count + 1, text: String(decoding: data, as: UTF8.self)), into: &events)
        }
        var compared = 0
        var matchedSomething = 0
        for event in events {
            var detections: [Detection] = []
            detector.detect(event, into: &detections)
            let viaDetector = Set(detections.map(\.rule.id))
            let direct = Set(ruleSet.rules.filter { $0.info.logSource.covers(event.logSource) && $0.matches(event) }.map(\.info.id))
            #expect(viaDetector == direct, "\(event.raw)")
            compared += 1
            if !direct.isEmpty { matchedSomething += 1 }
        }
        #expect(compared == ruleSet.rules.count)
        // The generated events really exercise the rules.
        #expect(matchedSomething > ruleSet.rules.count / 3)
    }

    /// A rule whose tree is an AND is evaluated only when the literals of its two most
    /// selective children both occur; each of those children is needed, so no match is lost.
    @Test func anANDRuleNeedsBothOfItsMostSelectiveChildren() throws {
        let rules = try compile(rule("selection:\n    type: 'EXECVE'\n    a0|contains: 'wget'\n    a1|endswith: '.sh'"))
        #expect(rules.prefilter.groupCounts == [2])
        // Which two: the longest literals (EXECVE, then wget), so a1 is not scanned for this rule.
        let fields = Set(rules.prefilter.indexes.map(\.field.name))
        #expect(fields == ["type", "a0"])
        #expect(matchingTitles(rules, event(#"{"type":"EXECVE","a0":"WGET","a1":"/tmp/x.sh","logsource":{"product":"test"}}"#)) == ["test"])
        #expect(matchingTitles(rules, event(#"{"type":"EXECVE","a0":"curl","a1":"/tmp/x.sh","logsource":{"product":"test"}}"#)).isEmpty)
        #expect(matchingTitles(rules, event(#"{"type":"SYSCALL","a0":"wget","a1":"/tmp/x.sh","logsource":{"product":"test"}}"#)).isEmpty)
        #expect(matchingTitles(rules, event(#"{"type":"EXECVE","a0":"wget","a1":"/tmp/x.py","logsource":{"product":"test"}}"#)).isEmpty)
        // An OR, and an AND with one child that yields literals, keep one group.
        #expect(try compile(rule("selection:\n    a0|contains:\n        - 'wget'\n        - 'curl'")).prefilter.groupCounts == [1])
        #expect(try compile(rule("selection:\n    a0|contains: 'wget'\n    a1|re: '.*'")).prefilter.groupCounts == [1])
    }

    /// Events name their own logsource, so a hostile input can name a new one per record: the
    /// detector keeps a bounded number of them, and still detects after starting over.
    @Test func aNewLogsourcePerEventDoesNotGrowTheDetector() throws {
        let rules = try compile(rule("selection:\n    a0|contains: 'wget'"))
        var detector = Detector(ruleSet: rules)
        var detections: [Detection] = []
        for index in 0..<(Detector.mostLogSourcesKept * 3 + 7) {
            detector.detect(event(#"{"a0":"wget x","logsource":{"product":"test","service":"s\#(index)"}}"#), into: &detections)
            #expect(detector.logSourcesKept <= Detector.mostLogSourcesKept)
        }
        #expect(detections.count == Detector.mostLogSourcesKept * 3 + 7)
        // Alternating between two logsources after a start-over finds what it should.
        for index in 0..<4 {
            detector.detect(event(#"{"a0":"wget","logsource":{"product":"test","service":"s\#(index % 2)"}}"#), into: &detections)
            detector.detect(event(#"{"a0":"curl","logsource":{"product":"test","service":"s\#(index % 2)"}}"#), into: &detections)
        }
        #expect(detections.count == Detector.mostLogSourcesKept * 3 + 7 + 4)
    }

    @Test func nonASCIIValuesStillMatchAfterUnicodeFolding() throws {
        let rules = try compile(rule("selection:\n    f|contains:\n        - 'ärger'\n        - 'zz'\n        - 'yy'\n        - 'xx'"))
        #expect(!matchingTitles(rules, event(#"{"f":"Großer ÄRGER","logsource":{"product":"test"}}"#)).isEmpty)
    }
}

/// The scan behind the prefilter finds exactly the literals that occur in a value, whatever
/// the shortest literal (which sets how far the scan steps) and wherever a literal sits.
@Suite(.runsOn(.busy)) struct ScanTableTests {
    @Test(arguments: [2, 3, 4, 5, 6, 9])
    func scanFindsExactlyTheLiteralsThatOccur(shortest: Int) {
        var random = SplitMix64(seed: UInt64(shortest))
        let alphabet = Array("abcAB/-. x".utf8)
        func text(_ length: Int) -> [UInt8] { (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] } }
        var literals: [[UInt8]] = []
        while literals.count < 100 {
            let literal = text(shortest + Int(random.next() % 8)).map(TextPattern.lower)
            if !literals.contains(literal) { literals.append(literal) }
        }
        var arena = UnsafeBufferArena()
        let table = ScanTable(literals: literals, owners: literals.indices.map { [Int32($0)] }, arena: &arena)
        var found = 0
        for _ in 0..<600 {
            var value = text(Int(random.next() % 40))
            // Splice a literal in, in any case, at any position, most of the time.
            if random.next() % 4 != 0 {
                let literal = literals[Int(random.next() % UInt64(literals.count))].map { random.next() % 2 == 0 ? $0 : UInt8(ascii: "a") <= $0 && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }
                value.insert(contentsOf: literal, at: Int(random.next() % UInt64(value.count + 1)))
            }
            var marks = [UInt64](repeating: 0, count: (literals.count + 63) / 64)
            marks.withUnsafeMutableBufferPointer { marks in
                value.withUnsafeBufferPointer { table.scan($0, into: marks.baseAddress!) }
            }
            let marked = literals.indices.map { marks[$0 >> 6] & 1 << UInt64($0 & 63) != 0 }
            let folded = value.map(TextPattern.lower)
            let expected = literals.map { folded.firstRange(of: $0) != nil }
            #expect(marked == expected, "\(String(decoding: value, as: UTF8.self))")
            found += expected.filter { $0 }.count
        }
        #expect(found > 300, "the values must contain literals often enough to test anything")
        withExtendedLifetime(arena) {}  // the table's buffers live in it
    }

    /// Keys fold bytes by setting one bit (`ScanTable.keyFold`), which merges a few pairs besides
    /// the letters' cases: `_` and DEL, `@` and `` ` ``, tab and `)`. A merged pair shares a key,
    /// never a match.
    @Test func bytesThatShareAKeyDoNotMatch() {
        let literals = ["a_b", "x_yz", "q@rs", "uv)w", "_k"].map { Array($0.utf8) }
        var arena = UnsafeBufferArena()
        let table = ScanTable(literals: literals, owners: literals.indices.map { [Int32($0)] }, arena: &arena)
        func marked(_ value: String) -> [Bool] {
            var marks: UInt64 = 0
            Array(value.utf8).withUnsafeBufferPointer { table.scan($0, into: &marks) }
            return literals.indices.map { marks & 1 << UInt64($0) != 0 }
        }
        #expect(marked("..A_B..X_YZ..Q@RS..UV)W.._K") == [true, true, true, true, true])
        #expect(marked("..a\u{7F}b..x\u{7F}yz..q`rs..uv\tw..\u{7F}k") == [false, false, false, false, false])
        withExtendedLifetime(arena) {}
    }
}
