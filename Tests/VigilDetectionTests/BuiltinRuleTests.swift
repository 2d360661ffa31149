import Foundation
import Testing
import VigilTestSupport
import VigilDetection
import VigilModel

@Suite(.runsOn(.busy)) struct BuiltinRuleTests {
    static let builtin = RuleSet.builtin()

    @Test func everyBuiltinRuleLoadsAndHasTests() {
        let loaded = RuleSet.load(paths: ["builtin"])
        #expect(loaded.errors.isEmpty)
        #expect(loaded.entries.allSatisfy { $0.error == nil })
        #expect(loaded.ruleSet.rules.count >= 4)
        for rule in loaded.ruleSet.rules {
            #expect(!rule.testEvents.match.isEmpty, "\(rule.info.title) needs vigil-tests match cases")
            #expect(!rule.testEvents.noMatch.isEmpty, "\(rule.info.title) needs vigil-tests nomatch cases")
        }
    }

    @Test(arguments: RuleSet.builtin().rules.flatMap { rule in
        rule.testEvents.match.map { (rule.info.title, $0, true) } + rule.testEvents.noMatch.map { (rule.info.title, $0, false) }
    })
    func ruleTestCase(title: String, json: String, shouldMatch: Bool) {
        let titles = matchingTitles(Self.builtin, event(json))
        #expect(titles.contains(title) == shouldMatch, "\(title) on \(json)")
    }

    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    @Test func eicarFiresOnHashSignatureAndString() {
        let cases = [
            #"{"logsource":{"category":"file_event"},"md5":"44d88612fea8a8f36de82e1278abb02f"}"#,
            #"{"logsource":{"category":"antivirus"},"Signature":"Eicar-Test-Signature"}"#,
            #"{"logsource":{"category":"process_creation"},"CommandLine":"printf '\#(Self.eicar.replacingOccurrences(of: "\\", with: "\\\\"))' > /tmp/e"}"#,
        ]
        for json in cases {
            #expect(matchingTitles(Self.builtin, event(json)) == ["EICAR test file detected"], "\(json)")
        }
    }

    @Test func eicarIgnoresEveryOneByteChange() {
        let bytes = Array(Self.eicar.utf8)
        for index in bytes.indices {
            var changed = bytes
            changed[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let content = String(decoding: changed, as: UTF8.self).replacingOccurrences(of: "\\", with: "\\\\")
            let json = #"{"FileContent":"\#(content)","CommandLine":"echo '\#(content)'"}"#
            #expect(!matchingTitles(Self.builtin, event(json)).contains("EICAR test file detected"), "byte \(index)")
        }
    }
}
