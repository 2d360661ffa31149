import ArgumentParser
import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

extension Vigil {
    struct RulesCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rules",
            abstract: "Inspect, check and test Sigma rules; store your own in the database.",
            subcommands: [List.self, Check.self, Test.self, Add.self, History.self, Disable.self, Enable.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List every loaded rule, correlation rules included: id, type, title, level, logsource, file, enabled.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions
            @OptionGroup var ruleOptions: RuleOptions

            func run() throws {
                let opened = try store.openRules()
                let ruleSet = try ruleOptions.load(stored: opened.storedRules())
                let disabled = try opened.disabledRuleIDs()
                let rows = ruleSet.rules.map { RuleListing(rule: $0.info, type: "detection", enabled: !disabled.contains($0.info.id)) }
                    + ruleSet.correlations.map { RuleListing(rule: $0.info, type: "correlation:\($0.kind.rawValue)", enabled: !disabled.contains($0.info.id)) }
                emit(try render(rows, as: output.format))
            }
        }

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Load rules and report, per rule, ok or the reason it is unsupported; then a total.",
                discussion: "Exits 1 when any rule fails to load.")
            @Argument(help: "Rule files or folders, or a pack: `default`, `builtin` or `sigmahq`.") var paths: [String]
            @Flag(help: "Print only failures and the total.") var quiet = false
            @Option(help: "A YAML map of placeholder name to values, for the `expand` modifier.") var placeholders: String?
            @Flag(help: "Load rules whose status is deprecated or unsupported too.") var includeDeprecated = false

            func run() throws {
                let loaded = RuleSet.load(paths: paths, placeholders: try loadPlaceholders(placeholders), includeDeprecated: includeDeprecated)
                var failures = loaded.errors.count
                for error in loaded.errors { print("error  \(error)") }
                for entry in loaded.entries {
                    if let error = entry.error {
                        failures += 1
                        print("unsupported  \(entry.file):\(entry.line)  \(entry.title)  \(error.code.rawValue): \(error.message)")
                    } else if let reason = entry.skipped {
                        if !quiet { print("skipped  \(entry.file)  \(entry.title)  \(reason)") }
                    } else if !quiet {
                        print("ok  \(entry.file)  \(entry.title)")
                    }
                }
                let skipped = loaded.entries.filter { $0.skipped != nil }.count
                print("\(loaded.ruleSet.rules.count + loaded.ruleSet.correlations.count) ok, \(failures) unsupported or broken, "
                    + "\(skipped) skipped (status deprecated or unsupported)")
                if failures > 0 { throw ExitCode.failure }
            }
        }

        struct Test: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run one rule over a log file and show which events match, and which selections made them match.")
            @Argument(help: "A rule file.") var rule: String
            @Argument(help: "A log file.") var file: String
            @Option(help: "The log's format; `auto` detects it.") var format: FormatChoice = .auto

            func run() throws {
                let loaded = RuleSet.load(paths: [rule])
                if let error = loaded.errors.first ?? loaded.entries.compactMap(\.error).first { throw CLIError(error.description) }
                guard !loaded.ruleSet.rules.isEmpty else { throw CLIError("\(rule) holds no detection rule") }
                var matches = 0
                try forEachDetectedEvent(in: file, format: format, ruleSet: loaded.ruleSet) { item in
                    let event = item.event
                    for detection in item.detections {
                        let compiled = loaded.ruleSet.rules.first { $0.info.id == detection.rule.id }!
                        matches += 1
                        print("line \(event.line): \(detection.rule.title) [selections: \(compiled.matchingSelections(event).joined(separator: ", "))]")
                        print("  \(String(event.raw.prefix(200)).terminalSafe)")
                    }
                }
                print("\(matches) matching events")
            }
        }
    }
}

extension Vigil.RulesCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store Sigma rules in the database, versioned and audited.",
            discussion: """
                `vigil import` and `vigil serve` load the stored rules on top of the default pack (a stored rule wins over a \
                pack rule of the same id) unless --rules names others for one run. Adding a changed file again stores a \
                new version; an unchanged one is left as it is. A file that does not load (broken YAML, a rule that does \
                not compile, no id) is reported and not stored, and the exit code is 1.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rule files (.yml, .yaml) or folders of them.") var paths: [String]

        func run() throws {
            let opened = try store.openRules(creating: true)
            var refused = 0
            for path in paths {
                var errors: [DetectionError] = []
                let files = RuleSet.ruleFiles(at: path, errors: &errors)
                for error in errors { writeStderr("\(path): \(error)"); refused += 1 }
                for file in files {
                    do {
                        let (id, title, text) = try Self.validated(file)
                        let (version, changed) = try opened.addStoredRule(id: id, title: title, source: file, text: text, actor: currentActor)
                        print("\(id) \(title): " + (changed ? "stored as version \(version)" : "unchanged, still version \(version)"))
                    } catch {
                        writeStderr("\(file): not stored: \(error)")
                        refused += 1
                    }
                }
            }
            if refused > 0 { throw ExitCode(1) }
        }

        /// The file's rule id, title and text, once every rule in it loads.
        static func validated(_ file: String) throws -> (id: String, title: String, text: String) {
            guard let data = FileManager.default.contents(atPath: file), let text = String(validating: data, as: UTF8.self) else {
                throw CLIError("cannot read it as UTF-8 text")
            }
            let loaded = RuleSet.load(paths: [], texts: [(text, file)], includeDeprecated: true)
            if let error = loaded.errors.first ?? loaded.entries.lazy.compactMap(\.error).first { throw CLIError(String(describing: error)) }
            guard let first = loaded.entries.first else { throw CLIError("it holds no rule") }
            guard let id = first.id, !id.isEmpty else {
                throw CLIError("the rule '\(first.title)' has no id; give it one (a UUID) so that later versions replace it")
            }
            return (id, first.title, text)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every stored version of a rule: when, by whom and from which file.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The rule id.") var id: String

        func run() throws {
            let versions = try store.openRules().storedRuleHistory(id: id)
            guard !versions.isEmpty else { throw CLIError("no stored rule has the id \(id); `vigil rules add FILE` stores one") }
            emit(try render(versions.map(StoredRuleVersion.init), as: output.format))
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn a rule off for imports and the server (it still loads).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The rule id (see `vigil rules list`).") var id: String

        func run() throws {
            try store.openRules(creating: true).setRule(id, enabled: false, actor: currentActor)
            print("rule \(id) is disabled")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn a disabled rule back on.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The rule id.") var id: String

        func run() throws {
            try store.openRules(creating: true).setRule(id, enabled: true, actor: currentActor)
            print("rule \(id) is enabled")
        }
    }
}

/// `--rules` and `--placeholders`, shared by every command that runs rules.
struct RuleOptions: ParsableArguments {
    @Option(name: .long, help: "Rule files or folders (repeatable), or a pack: `default` (when none is named: Vigil's own rules and SigmaHQ's Linux and macOS rules), `builtin` (Vigil's own) or `sigmahq`.")
    var rules: [String] = []

    @Option(help: "A YAML map of placeholder name to values, for the Sigma `expand` modifier.")
    var placeholders: String?

    @Flag(help: "Load rules whose status is deprecated or unsupported too (skipped by default).")
    var includeDeprecated = false

    /// Loads the rules; broken rules are reported on stderr and skipped, and so is the count
    /// of rules skipped for their status. Without `--rules`, the default pack and `stored`
    /// (the database's rules, from `vigil rules add`); `--rules` replaces both for one run.
    func load(stored: [StoredRule] = []) throws -> RuleSet {
        let texts = rules.isEmpty ? stored.map { (text: $0.text, file: $0.origin) } : []
        let loaded = RuleSet.load(paths: rules.isEmpty ? [RuleSet.defaultPack] : rules, texts: texts,
                                  placeholders: try loadPlaceholders(placeholders), includeDeprecated: includeDeprecated)
        for error in loaded.errors { writeStderr("warning: \(error)") }
        for entry in loaded.entries { if let error = entry.error { writeStderr("warning: rule skipped: \(error)") } }
        let retired = loaded.entries.filter { $0.skipped != nil }.count
        if retired > 0 { writeStderr("note: \(retired) rules not loaded for their status (deprecated or unsupported); --include-deprecated loads them") }
        return loaded.ruleSet
    }
}

/// Reads a placeholder table: `{name: [value, …]}` in YAML.
func loadPlaceholders(_ path: String?) throws -> [String: [String]] {
    guard let path else { return [:] }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw CLIError("cannot read the placeholder table \(path)")
    }
    do {
        return try PlaceholderTable.parse(yaml: text)
    } catch {
        throw CLIError("\(path): \(error)")
    }
}

/// Streams one file through the batch pipeline's reader, without a database: each event some
/// rule matched, with its content key and detections (not yet correlated); the next batch is
/// read on another thread while `body` runs. Rejected records are reported on stderr.
func forEachDetectedEvent(in path: String, format: FormatChoice, ruleSet: RuleSet, _ body: (BatchItem) throws -> Void) throws {
    let fixed: SourceFormat? = if case .fixed(let chosen) = format { chosen } else { nil }
    let reader = try BatchReader(source: ByteSource(path: path), format: fixed,
                                 context: ParserContext(integration: "hunt", defaultHostname: ProcessInfo.processInfo.hostName),
                                 ruleSet: ruleSet, use: .hunting)
    if fixed == nil { writeStderr("\(path): format \(reader.format.rawValue) (detected)") }
    try reader.forEachBatch(parsingAhead: true) { batch in
        for rejection in batch.rejected { writeStderr("\(path):\(rejection.line): rejected: \(rejection.reason)") }
        for item in batch.items { try body(item) }
    }
}

/// One loaded rule, as `vigil rules list` shows it.
struct RuleListing: Listable {
    var id: String
    /// `detection`, or `correlation:` and the correlation's kind.
    var type: String
    var title: String
    var level: String
    var status: String
    var logsource: String
    var author: String
    var file: String
    var enabled: Bool

    init(rule: RuleInfo, type: String, enabled: Bool) {
        id = rule.id
        self.type = type
        title = rule.title
        level = rule.severity.name
        status = rule.status
        logsource = rule.logSource.description
        author = rule.author
        file = rule.file
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, type, title, level, status, logsource, author, file, enabled }

    static let tableColumns = ["id", "type", "title", "level", "logsource", "file", "enabled"]
}

/// One line of `vigil rules history`.
struct StoredRuleVersion: Listable {
    var rule: StoredRule

    enum CodingKeys: String, CodingKey, CaseIterable { case id, version, title, added, actor, source }

    func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(rule.ruleID, forKey: .id)
        try row.encode(rule.version, forKey: .version)
        try row.encode(rule.title, forKey: .title)
        try row.encode(rule.addedAt, forKey: .added)
        try row.encode(rule.actor, forKey: .actor)
        try row.encode(rule.source, forKey: .source)
    }
}
