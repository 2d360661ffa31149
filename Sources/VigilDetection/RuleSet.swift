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
                // An empty file is not read: Foundation's reader leaks its buffer on one (found by fuzzing).
                let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int
                guard let data = size == 0 ? Data() : FileManager.default.contents(atPath: file) else {
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

/// Runs a `RuleSet` over events. Keeps a per-logsource list of candidate rules and scratch
/// memory for the prefilter; a copy makes its own scratch memory on first use, so give each
/// thread its own `Detector`.
///
/// The per-event path reads rules and tables through plain pointers, so it does no
/// reference counting on objects that the threads sharing one rule set would contend on.
public struct Detector {
    public let ruleSet: RuleSet

    /// One rule that can apply to a logsource.
    private struct Candidate {
        var rule: Int32
        /// True when the rule has a prefilter: skip it unless marked.
        var filtered: Bool
    }

    /// The rules that can apply to one logsource, and which prefilter fields they need.
    private struct Candidates {
        var rules: UnsafeMutableBufferPointer<Candidate>
        var neededFields: UnsafeMutableBufferPointer<Bool>
        var anyFiltered: Bool
    }

    /// The memory a detector owns.
    private final class Memory {
        let marks: UnsafeMutableBufferPointer<Bool>
        let rules: UnsafeMutableBufferPointer<Unmanaged<CompiledRule>>
        let prefilter: Unmanaged<RulePrefilter>
        var candidates: [Candidates] = []

        init(ruleSet: RuleSet) {
            marks = .allocate(capacity: max(ruleSet.rules.count, 1))
            marks.initialize(repeating: false)
            rules = .copy(ruleSet.rules.map { Unmanaged.passUnretained($0) })
            prefilter = .passUnretained(ruleSet.prefilter)
        }

        deinit {
            for entry in candidates {
                entry.rules.deallocate()
                entry.neededFields.deallocate()
            }
            marks.deallocate()
            rules.deallocate()
        }
    }

    private var memory: Memory
    private var candidatePositions: [LogSource: Int] = [:]
    /// Events of a file mostly share one logsource: the last lookup skips hashing it again.
    private var lastLogSource: LogSource?
    private var last: Candidates?

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        memory = Memory(ruleSet: ruleSet)
    }

    /// Appends a detection to `detections` for every rule that matches `event`.
    public mutating func detect(_ event: Event, into detections: inout [Detection]) {
        if !isKnownUniquelyReferenced(&memory) { self = Detector(ruleSet: ruleSet) }
        if last == nil || event.logSource != lastLogSource {
            last = candidates(for: event.logSource)
            lastLogSource = event.logSource
        }
        guard let entry = last, entry.rules.count > 0 else { return }
        let marks = memory.marks.baseAddress!
        if entry.anyFiltered {
            memory.prefilter._withUnsafeGuaranteedRef { $0.mark(event, needed: UnsafeBufferPointer(entry.neededFields), into: marks) }
        }
        let rules = memory.rules
        for candidate in entry.rules {
            let position = Int(candidate.rule)
            if candidate.filtered, !marks[position] { continue }
            if rules[position]._withUnsafeGuaranteedRef({ $0.matches(event) }) {
                detections.append(rules[position].takeUnretainedValue().detection(for: event))
            }
        }
        // Marks may also be set for rules of other logsources that share a literal.
        if entry.anyFiltered { memory.marks.update(repeating: false) }
    }

    private mutating func candidates(for logSource: LogSource) -> Candidates {
        if let position = candidatePositions[logSource] { return memory.candidates[position] }
        let rules = ruleSet.rules.indices.filter { ruleSet.rules[$0].info.logSource.covers(logSource) }.map(Int32.init)
        let prefilter = ruleSet.prefilter
        let needed = prefilter.indexes.map { index in index.rules.contains { rules.contains($0) } }
        let entry = Candidates(
            rules: .copy(rules.map { Candidate(rule: $0, filtered: prefilter.filtered[Int($0)]) }),
            neededFields: .copy(needed),
            anyFiltered: rules.contains { prefilter.filtered[Int($0)] })
        memory.candidates.append(entry)
        candidatePositions[logSource] = memory.candidates.count - 1
        return entry
    }
}
