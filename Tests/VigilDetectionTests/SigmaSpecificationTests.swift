import Testing
import VigilTestSupport
import VigilDetection
import VigilModel
import Foundation

/// Examples from the Sigma specification (rules, modifiers appendix) and its escaping rules.
@Suite(.runsOn(.busy)) struct SigmaSpecificationTests {
    @Test(arguments: [
        // Plain values: whole-value, case-insensitive, non-ASCII folded.
        ("f: abc", #"{"f":"ABC"}"#, true),
        ("f: abc", #"{"f":"abcd"}"#, false),
        ("f: 'ÄÖÜ straße'", #"{"f":"äöü STRASSE"}"#, false),
        ("f: 'ÄÖÜ'", #"{"f":"äöü"}"#, true),
        ("f: 'Ärger'", #"{"f":"äRGER"}"#, true),
        // Wildcards.
        ("f: 'a*c'", #"{"f":"abbbc"}"#, true),
        ("f: 'a?c'", #"{"f":"abc"}"#, true),
        ("f: 'a?c'", #"{"f":"aéc"}"#, true),
        ("f: 'a?c'", #"{"f":"abbc"}"#, false),
        // Escaping: \* and \? are literal, \\ is one backslash, other backslashes are literal.
        (#"f: 'a\*c'"#, #"{"f":"a*c"}"#, true),
        (#"f: 'a\*c'"#, #"{"f":"abc"}"#, false),
        (#"f: 'a\?c'"#, #"{"f":"a?c"}"#, true),
        (#"f: 'a\?c'"#, #"{"f":"abc"}"#, false),
        (#"f: 'C:\Windows'"#, #"{"f":"C:\\Windows"}"#, true),
        (#"f: 'a\\*'"#, #"{"f":"a\\bcd"}"#, true),
        (#"f: 'a\\\*'"#, #"{"f":"a\\*"}"#, true),
        (#"f: 'a\\\*'"#, #"{"f":"a\\b"}"#, false),
        // Empty and null.
        ("f: ''", #"{"f":""}"#, true),
        ("f: ''", #"{"g":"x"}"#, false),
        ("f: null", #"{"g":"x"}"#, true),
        ("f: null", #"{"f":"x"}"#, false),
        // Lists are OR; numbers compare as text.
        ("f: [a, b]", #"{"f":"B"}"#, true),
        ("f: 3", #"{"f":3}"#, true),
        // String modifiers.
        ("f|contains: bc", #"{"f":"ABCD"}"#, true),
        ("f|startswith: ab", #"{"f":"ABCD"}"#, true),
        ("f|startswith: bc", #"{"f":"ABCD"}"#, false),
        ("f|endswith: cd", #"{"f":"ABCD"}"#, true),
        ("f|endswith: bc", #"{"f":"ABCD"}"#, false),
        ("f|endswith: ab", #"{"f":"ABCD"}"#, false),
        ("f|endswith: abcd", #"{"f":"ABCD"}"#, true),
        ("f|endswith: xabcd", #"{"f":"ABCD"}"#, false),
        ("f|contains|all: [a, d]", #"{"f":"ABCD"}"#, true),
        ("f|contains|all: [a, z]", #"{"f":"ABCD"}"#, false),
        ("f|cased: Abc", #"{"f":"abc"}"#, false),
        ("f|cased: Abc", #"{"f":"Abc"}"#, true),
        ("f|contains|cased: Bc", #"{"f":"aBcd"}"#, true),
        ("f|exists: true", #"{"f":""}"#, true),
        ("f|exists: true", #"{"g":""}"#, false),
        ("f|exists: false", #"{"g":""}"#, true),
        // A JSON null is a present field (v2.1: exists checks presence, be the value empty or null).
        ("f|exists: true", #"{"f":null}"#, true),
        ("f|exists: false", #"{"f":null}"#, false),
        ("f: null", #"{"f":null}"#, true),
        ("f: ''", #"{"f":null}"#, false),
        ("f|contains: u", #"{"f":null}"#, false),
        ("f|windash|contains: ' -s '", #"{"f":"cmd /s x"}"#, true),
        ("f|windash|contains: ' -s '", #"{"f":"cmd \u2013s x"}"#, true),
        ("f|windash|contains: ' -s '", #"{"f":"cmd +s x"}"#, false),
        // Regular expressions: case-sensitive unless i; m and s flags.
        ("f|re: '^a.c$'", #"{"f":"abc"}"#, true),
        ("f|re: '^a.c$'", #"{"f":"ABC"}"#, false),
        ("f|re|i: '^a.c$'", #"{"f":"ABC"}"#, true),
        ("f|re: '^b$'", #"{"f":"a\nb"}"#, false),
        ("f|re|m: '^b$'", #"{"f":"a\nb"}"#, true),
        ("f|re: 'a.b'", #"{"f":"a\nb"}"#, false),
        ("f|re|s: 'a.b'", #"{"f":"a\nb"}"#, true),
        // Encodings.
        ("f|base64: 'abc'", #"{"f":"YWJj"}"#, true),
        ("f|base64offset|contains: 'http://'", #"{"f":"xxaHR0cDovL"}"#, true),
        ("f|base64offset|contains: 'http://'", #"{"f":"xxodHRwOi8v"}"#, true),
        ("f|base64offset|contains: 'http://'", #"{"f":"xxFodHRwOi8v"}"#, true),
        ("f|base64offset|contains: 'http://'", #"{"f":"xxaHR0cHM6Ly"}"#, false),
        ("f|utf16le|base64: 'ab'", #"{"f":"YQBiAA=="}"#, true),
        ("f|wide|base64: 'ab'", #"{"f":"YQBiAA=="}"#, true),
        ("f|utf16be|base64: 'ab'", #"{"f":"AGEAYg=="}"#, true),
        ("f|utf16|base64: 'ab'", #"{"f":"//5hAGIA"}"#, true),
        // Comparisons.
        ("f|lt: 10", #"{"f":"9"}"#, true),
        ("f|lt: 10", #"{"f":"10"}"#, false),
        ("f|lte: 10", #"{"f":"10"}"#, true),
        ("f|gt: 10", #"{"f":"10.5"}"#, true),
        ("f|gte: 10", #"{"f":"9"}"#, false),
        ("f|gt: 10", #"{"f":"many"}"#, false),
        ("f|neq: abc", #"{"f":"abd"}"#, true),
        ("f|neq: abc", #"{"f":"ABC"}"#, false),
        // Network.
        ("f|cidr: 10.0.0.0/8", #"{"f":"10.1.2.3"}"#, true),
        ("f|cidr: 10.0.0.0/8", #"{"f":"11.1.2.3"}"#, false),
        ("f|cidr: 192.168.1.0/25", #"{"f":"192.168.1.128"}"#, false),
        ("f|cidr: 'fe80::/10'", #"{"f":"fe80::1"}"#, true),
        ("f|cidr: 'fe80::/10'", #"{"f":"2001:db8::1"}"#, false),
        ("f|cidr: 'fe80::/10'", #"{"f":"not an ip"}"#, false),
        // References.
        ("f|fieldref: g", #"{"f":"same","g":"SAME"}"#, true),
        ("f|fieldref: g", #"{"f":"same","g":"other"}"#, false),
        ("f|fieldref|startswith: g", #"{"f":"prefix-rest","g":"prefix"}"#, true),
        // v2.1: `neq` with a list is none of the values; `fieldref|neq` differs from the other field.
        ("f|neq: [a, b]", #"{"f":"c"}"#, true),
        ("f|neq: [a, b]", #"{"f":"b"}"#, false),
        ("f|neq: [a, b]", #"{"f":"A"}"#, false),
        ("f|fieldref|neq: g", #"{"f":"x","g":"y"}"#, true),
        ("f|fieldref|neq: g", #"{"f":"x","g":"X"}"#, false),
        // `all` with an expanding modifier: every value, each through any of its variants.
        ("f|windash|contains|all: [' -a ', ' -b ']", #"{"f":"cmd /a -b x"}"#, true),
        ("f|windash|contains|all: [' -a ', ' -b ']", #"{"f":"cmd /a x"}"#, false),
        ("f|base64offset|contains|all: [abc, def]", #"{"f":"YWJj ZGVm"}"#, true),
        ("f|base64offset|contains|all: [abc, def]", #"{"f":"YWJj"}"#, false),
        // v2.1 time modifiers: a part of a date value, in UTC, alone or with a comparison.
        ("t|hour: 3", #"{"t":"2026-11-27T03:15:00Z"}"#, true),
        ("t|hour: 3", #"{"t":"2026-11-27T04:15:00Z"}"#, false),
        ("t|hour|gte: 22", #"{"t":"2026-11-27T23:00:00Z"}"#, true),
        ("t|minute: 15", #"{"t":"2026-11-27T03:15:00Z"}"#, true),
        ("t|day: 27", #"{"t":"2026-11-27T03:15:00Z"}"#, true),
        ("t|week: 48", #"{"t":"2026-11-27T03:15:00Z"}"#, true),
        ("t|month|lt: 6", #"{"t":"2026-11-27T03:15:00Z"}"#, false),
        ("t|year: 2026", #"{"t":"2026-11-27T03:15:00Z"}"#, true),
        ("t|year: 2026", #"{"t":"not a date"}"#, false),
    ])
    func modifier(selection: String, json: String, expected: Bool) throws {
        #expect(try matches(rule("selection:\n    " + selection), json) == expected)
    }

    @Test func keywordsSearchTheRawRecord() throws {
        let yaml = rule("keywords:\n    - 'rm -rf'\n    - 'shred*passwd'", condition: "keywords")
        #expect(try matches(yaml, #"{"msg":"ran RM -RF /"}"#))
        #expect(try matches(yaml, #"{"msg":"shred -u /etc/passwd"}"#))
        #expect(try !matches(yaml, #"{"msg":"ls"}"#))
    }

    /// Keywords are written plainly; a JSON record holds them escaped, so they match its decoded values.
    @Test(arguments: [
        (#"C:\Windows\Temp\x.exe"#, #"{"path":"C:\\Windows\\Temp\\x.exe"}"#),
        (#"say "hello""#, #"{"msg":"say \"hello\""}"#),
        ("é", #"{"msg":"caf\u00e9"}"#),
        ("/usr/bin", #"{"exe":"\/usr\/bin\/curl"}"#),
    ])
    func keywordsMatchDecodedJSONValues(keyword: String, json: String) throws {
        let quoted = "'" + keyword.replacingOccurrences(of: "'", with: "''") + "'"
        #expect(try matches(rule("keywords:\n    - " + quoted, condition: "keywords"), json))
        #expect(try !matches(rule("keywords:\n    - " + quoted, condition: "keywords"), #"{"msg":"unrelated"}"#))
    }

    @Test func aListOfMapsIsOrOfAnds() throws {
        let yaml = rule("selection:\n    - a: 1\n      b: 2\n    - c: 3")
        #expect(try matches(yaml, #"{"a":"1","b":"2"}"#))
        #expect(try !matches(yaml, #"{"a":"1","b":"3"}"#))
        #expect(try matches(yaml, #"{"c":"3"}"#))
    }

    @Test(arguments: [
        // not > and > or
        ("a or b and c", #"{"a":"1"}"#, true),
        ("a or b and c", #"{"b":"1"}"#, false),
        ("(a or b) and c", #"{"a":"1"}"#, false),
        ("not a and b", #"{"b":"1"}"#, true),
        ("not a and b", #"{"a":"1","b":"1"}"#, false),
        ("not a and b", #"{"a":"1"}"#, false),
        ("b and c or a", #"{"a":"1"}"#, true),
        ("b and c or a", #"{"b":"1"}"#, false),
        ("not (a and b)", #"{"a":"1","b":"1"}"#, false),
        ("1 of sel*", #"{"b":"1"}"#, false),
        ("1 of sel*", #"{"s2":"1"}"#, true),
        ("all of sel*", #"{"s1":"1","s2":"1"}"#, true),
        ("all of sel*", #"{"s1":"1"}"#, false),
        ("all of them", #"{"a":"1","b":"1","c":"1","s1":"1","s2":"1"}"#, true),
        ("1 of them", #"{"c":"1"}"#, true),
        ("1 of them", #"{"x":"1"}"#, false),
        ("a and not 1 of sel*", #"{"a":"1"}"#, true),
        ("a and not 1 of sel*", #"{"a":"1","s1":"1"}"#, false),
    ])
    func conditionPrecedence(condition: String, json: String, expected: Bool) throws {
        let yaml = rule("a:\n    a: 1\nb:\n    b: 1\nc:\n    c: 1\nsel1:\n    s1: 1\nsel2:\n    s2: 1\n_hidden:\n    x: 1", condition: condition)
        #expect(try matches(yaml, json) == expected)
    }

    @Test(arguments: [
        ("f|nosuch: x", "unknown-modifier"),
        ("f|re: '(unclosed'", "bad-regex"),
        ("f|cidr: 300.1.1.1/8", "bad-value"),
    ])
    func brokenRulesReportWhy(selection: String, code: String) throws {
        #expect {
            try compile(rule("selection:\n    " + selection))
        } throws: { error in
            (error as? DetectionError)?.code.rawValue == code && (error as? DetectionError)?.line != nil
        }
    }

    @Test(arguments: ["selection and", "selection or (x", "nothing", "2 of", "selection | count() > 5"])
    func badConditionsAreReported(condition: String) {
        #expect(throws: DetectionError.self) { try compile(rule("selection:\n    f: x", condition: condition)) }
    }

    @Test func oneBrokenRuleDoesNotStopTheOthers() throws {
        let good = rule("selection:\n    f: x")
        let yaml = good + "\n---\n" + rule("selection:\n    f|bogus: x") + "\n---\n" + good
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-mixed.yml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        let loaded = RuleSet.load(paths: [path])
        #expect(loaded.ruleSet.rules.count == 2)
        #expect(loaded.entries.compactMap(\.error).count == 1)
    }

    @Test func collectionActionsGlobalAndRepeat() throws {
        let yaml = """
            action: global
            title: shared
            logsource:
                product: test
            detection:
                condition: selection
            ---
            detection:
                selection:
                    f: one
            ---
            action: repeat
            title: second
            detection:
                selection:
                    f: two
            """
        let rules = try compile(yaml)
        #expect(rules.rules.map(\.info.title) == ["shared", "second"])
        #expect(try matchingTitles(rules, event(#"{"f":"two","logsource":{"product":"test"}}"#)) == ["second"])
    }

    @Test func filtersExcludeMatches() throws {
        let yaml = """
            title: base
            id: 11111111-1111-1111-1111-111111111111
            logsource:
                product: test
            detection:
                selection:
                    f|startswith: run
                condition: selection
            ---
            title: exclude the updater
            logsource:
                product: test
            filter:
                rules:
                    - 11111111-1111-1111-1111-111111111111
                selection:
                    f: run-updater
                condition: selection
            """
        let rules = try compile(yaml)
        #expect(try matchingTitles(rules, event(#"{"f":"run-x","logsource":{"product":"test"}}"#)) == ["base"])
        #expect(try matchingTitles(rules, event(#"{"f":"run-updater","logsource":{"product":"test"}}"#)).isEmpty)
    }
}

@Suite(.runsOn(.busy)) struct ExpandModifierTests {
    @Test func placeholdersExpandFromTheTable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-expand-\(UUID().uuidString).yml").path
        try Data(rule("selection:\n    User|expand: '%admins%'").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let table = try PlaceholderTable.parse(yaml: "admins: [root, toor]\n")
        let loaded = RuleSet.load(paths: [path], placeholders: table)
        #expect(loaded.entries.allSatisfy { $0.error == nil })
        #expect(!matchingTitles(loaded.ruleSet, event(#"{"User":"toor","logsource":{"product":"test"}}"#)).isEmpty)
        #expect(matchingTitles(loaded.ruleSet, event(#"{"User":"alice","logsource":{"product":"test"}}"#)).isEmpty)
        let missing = RuleSet.load(paths: [path])
        #expect(missing.entries.first?.error?.message.contains("%admins%") == true)
    }

    /// `\%` is a literal percent sign, not a placeholder's edge.
    @Test func anEscapedPercentIsLiteral() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-expand-\(UUID().uuidString).yml").path
        try Data(rule("selection:\n    Share|expand: '\\%temp\\%-%admins%'").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = RuleSet.load(paths: [path], placeholders: try PlaceholderTable.parse(yaml: "admins: [root]\ntemp: [nope]\n"))
        #expect(loaded.entries.allSatisfy { $0.error == nil })
        #expect(!matchingTitles(loaded.ruleSet, event(#"{"Share":"%temp%-root","logsource":{"product":"test"}}"#)).isEmpty)
        #expect(matchingTitles(loaded.ruleSet, event(#"{"Share":"nope-root","logsource":{"product":"test"}}"#)).isEmpty)
    }
}

/// What loading reports: retired statuses, duplicates, a missing logsource, a filter that does not fit.
@Suite(.runsOn(.busy)) struct RuleLoadingTests {
    func load(_ yaml: String, includeDeprecated: Bool = false) throws -> (ruleSet: RuleSet, entries: [RuleSet.LoadEntry], errors: [DetectionError]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-load-\(UUID().uuidString).yml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return RuleSet.load(paths: [path], includeDeprecated: includeDeprecated)
    }

    func rule(id: String, status: String = "test", product: String = "linux", name: String? = nil) -> String {
        """
        title: rule \(id)
        id: \(id)
        \(name.map { "name: \($0)\n" } ?? "")status: \(status)
        logsource:
            product: \(product)
        detection:
            selection:
                f: x
            condition: selection
        """
    }

    @Test func deprecatedAndUnsupportedRulesLoadOnlyWhenAskedFor() throws {
        let yaml = [rule(id: "a"), rule(id: "b", status: "deprecated"), rule(id: "c", status: "unsupported")].joined(separator: "\n---\n")
        let loaded = try load(yaml)
        #expect(loaded.ruleSet.rules.map(\.info.id) == ["a"])
        #expect(loaded.entries.compactMap(\.skipped).count == 2)
        #expect(try load(yaml, includeDeprecated: true).ruleSet.rules.count == 3)
    }

    @Test func aDuplicateIdIsReportedWithBothPlaces() throws {
        let loaded = try load([rule(id: "same"), rule(id: "same")].joined(separator: "\n---\n"))
        #expect(loaded.ruleSet.rules.count == 1)
        let error = try #require(loaded.entries.compactMap(\.error).first)
        #expect(error.message.contains("duplicate rule id 'same'") && error.message.contains(":1 has it too"), "\(error)")
    }

    @Test func aDuplicateCorrelationNameIsReported() throws {
        let correlation = { (id: String) in
            """
            title: many \(id)
            id: \(id)
            name: many_failures
            correlation:
                type: event_count
                rules: [base]
                group-by: [f]
                timespan: 1m
                condition:
                    gte: 3
            """
        }
        let loaded = try load([rule(id: "base"), correlation("c1"), correlation("c2")].joined(separator: "\n---\n"))
        #expect(loaded.ruleSet.correlations.count == 1)
        #expect(loaded.entries.compactMap(\.error).first?.message.contains("duplicate correlation name 'many_failures'") == true)
    }

    @Test func aRuleWithoutLogsourceIsRejected() throws {
        let loaded = try load("title: no source\nid: n\ndetection:\n    selection:\n        f: x\n    condition: selection\n")
        #expect(loaded.ruleSet.rules.isEmpty)
        #expect(loaded.entries.first?.error?.message.contains("no 'logsource'") == true)
    }

    @Test func aFilterWhoseLogsourceDoesNotFitItsRuleIsReportedAndNotApplied() throws {
        let filter = """
            title: filter for macOS
            logsource:
                product: macos
            filter:
                rules: [target]
                selection:
                    f: x
                condition: selection
            """
        let loaded = try load([rule(id: "target", product: "linux"), filter].joined(separator: "\n---\n"))
        #expect(loaded.errors.first?.message.contains("does not fit rule target") == true, "\(loaded.errors)")
        // Not applied: the rule still matches what the filter would have excluded.
        #expect(!matchingTitles(loaded.ruleSet, event(#"{"f":"x","logsource":{"product":"linux"}}"#)).isEmpty)
    }
}
