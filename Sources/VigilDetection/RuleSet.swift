import Foundation
import VigilModel

/// A loaded, compiled set of rules, indexed by Sigma logsource.
public struct RuleSet: Sendable {
    /// The outcome of loading one rule document.
    public struct LoadEntry: Sendable {
        public var file: String
        public var line: Int
        public var title: String
        public var id: String?
        /// Nil when the rule compiled.
        public var error: DetectionError?
    }

    public let rules: [CompiledRule]
    public let correlations: [CorrelationRule]
    let prefilter: RulePrefilter

    public init(rules: [CompiledRule], correlations: [CorrelationRule] = []) {
        self.rules = rules
        self.correlations = correlations
        self.prefilter = RulePrefilter(rules: rules)
    }

    /// Loads rules from files and folders (`.yml`/`.yaml`, recursively); the path `builtin`
    /// names the built-in pack. A broken rule is reported in `entries` and never stops the others.
    public static func load(paths: [String], placeholders: [String: [String]] = [:]) -> (ruleSet: RuleSet, entries: [LoadEntry], errors: [DetectionError]) {
        var output = SigmaDocumentReader.Output()
        for path in paths {
            if path == "builtin" {
                for (name, text) in BuiltinRules.embedded {
                    SigmaDocumentReader.read(yaml: text, file: "builtin:\(name)", into: &output)
                }
                continue
            }
            for file in ruleFiles(at: path, errors: &output.errors) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    output.errors.append(DetectionError(.io, "cannot read the rule file; check that it exists and is readable", file: file))
                    continue
                }
                guard let text = String(validating: data, as: UTF8.self) else {
                    output.errors.append(DetectionError(.badYAML, "the rule file is not valid UTF-8", file: file))
                    continue
                }
                SigmaDocumentReader.read(yaml: text, file: file, into: &output)
            }
        }
        let compiler = RuleCompiler(placeholders: placeholders)
        var rules: [CompiledRule] = []
        var entries: [LoadEntry] = []
        for document in output.rules {
            var entry = LoadEntry(file: document.file, line: document.line, title: document.title, id: document.id)
            do {
                rules.append(try compiler.compile(document, filters: output.filters))
            } catch {
                entry.error = error.located(file: document.file, line: document.line)
            }
            entries.append(entry)
        }
        // Correlations may refer to rules and to other correlations, by id or name.
        var correlations: [CorrelationRule] = []
        var pending = output.correlations
        while !pending.isEmpty {
            var progressed = false
            var stillPending: [SigmaRuleDocument] = []
            for document in pending {
                let resolve = { (reference: String) -> String? in
                    rules.first { $0.info.id == reference || $0.name == reference }?.info.id
                        ?? correlations.first { $0.info.id == reference || $0.name == reference }?.info.id
                }
                let references = document.body["correlation"]?["rules"]?.strings ?? []
                let waitsForCorrelation = references.contains { reference in
                    resolve(reference) == nil && pending.contains { $0.id == reference || $0.name == reference }
                }
                if waitsForCorrelation {
                    stillPending.append(document)
                    continue
                }
                var entry = LoadEntry(file: document.file, line: document.line, title: document.title, id: document.id)
                do {
                    correlations.append(try compiler.compileCorrelation(document, resolve: resolve))
                } catch {
                    entry.error = error
                }
                entries.append(entry)
                progressed = true
            }
            if !progressed {
                for document in stillPending {
                    entries.append(LoadEntry(
                        file: document.file, line: document.line, title: document.title, id: document.id,
                        error: DetectionError(.badRule, "correlation rules refer to each other in a cycle", file: document.file, line: document.line)))
                }
                break
            }
            pending = stillPending
        }
        return (RuleSet(rules: rules, correlations: correlations), entries, output.errors)
    }

    /// The built-in pack alone.
    public static func builtin() -> RuleSet { load(paths: ["builtin"]).ruleSet }

    /// The rules whose id is not in `disabled`.
    public func excluding(ids disabled: Set<String>) -> RuleSet {
        disabled.isEmpty ? self : RuleSet(rules: rules.filter { !disabled.contains($0.info.id) },
                                          correlations: correlations.filter { !disabled.contains($0.info.id) })
    }

    private static func ruleFiles(at path: String, errors: inout [DetectionError]) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            errors.append(DetectionError(.io, "no such rule file or folder; pass an existing path or 'builtin' to --rules", file: path))
            return []
        }
        guard isDirectory.boolValue else { return [path] }
        let enumerator = FileManager.default.enumerator(atPath: path)
        var files: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            if relative.hasSuffix(".yml") || relative.hasSuffix(".yaml") {
                files.append((path as NSString).appendingPathComponent(relative))
            }
        }
        return files.sorted()
    }
}

/// Runs a `RuleSet` over events. Keeps a per-logsource cache of candidate rules and
/// scratch space for the prefilter, so give each worker thread its own `Detector`.
public struct Detector {
    public let ruleSet: RuleSet

    /// The rules that can apply to one logsource, and which prefilter fields they need.
    private struct Candidates {
        var rules: [Int32]
        var neededFields: [Bool]
        var anyFiltered: Bool
    }

    private var candidates: [Candidates] = []
    private var candidatePositions: [LogSource: Int] = [:]
    /// Events of a file mostly share one logsource: the last lookup skips hashing it again.
    private var lastLogSource: LogSource?
    private var lastPosition = 0
    private var marks: [Bool]

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        marks = [Bool](repeating: false, count: ruleSet.rules.count)
    }

    /// Appends a detection to `detections` for every rule that matches `event`.
    public mutating func detect(_ event: Event, into detections: inout [Detection]) {
        if event.logSource != lastLogSource {
            lastPosition = candidatePosition(for: event.logSource)
            lastLogSource = event.logSource
        }
        let entry = candidates[lastPosition]
        guard !entry.rules.isEmpty else { return }
        let prefilter = ruleSet.prefilter
        if entry.anyFiltered { prefilter.mark(event, needed: entry.neededFields, into: &marks) }
        ruleSet.rules.withUnsafeBufferPointer { rules in
            for index in entry.rules {
                let position = Int(index)
                if prefilter.filtered[position] {
                    guard marks[position] else { continue }
                    marks[position] = false
                }
                let rule = rules[position]
                if rule.matches(event) { detections.append(rule.detection(for: event)) }
            }
        }
        // Clear marks set for rules outside this logsource's candidates.
        if entry.anyFiltered, marks.contains(true) {
            for index in marks.indices { marks[index] = false }
        }
    }

    private mutating func candidatePosition(for logSource: LogSource) -> Int {
        if let cached = candidatePositions[logSource] { return cached }
        let rules = ruleSet.rules.indices.filter { ruleSet.rules[$0].info.logSource.covers(logSource) }.map(Int32.init)
        let prefilter = ruleSet.prefilter
        var needed = [Bool](repeating: false, count: prefilter.indexes.count)
        for (slot, index) in prefilter.indexes.enumerated() {
            needed[slot] = index.rules.contains { rules.contains($0) }
        }
        candidates.append(Candidates(rules: rules, neededFields: needed, anyFiltered: rules.contains { prefilter.filtered[Int($0)] }))
        candidatePositions[logSource] = candidates.count - 1
        return candidates.count - 1
    }
}
