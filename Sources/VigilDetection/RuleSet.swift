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
        /// Why a rule that compiles was not loaded (its `status`), or nil.
        public var skipped: String?
    }

    /// The rule statuses that are not loaded unless asked for (`includeDeprecated`).
    public static let retiredStatuses: Set<String> = ["deprecated", "unsupported"]

    public let rules: [CompiledRule]
    public let correlations: [CorrelationRule]
    let prefilter: RulePrefilter

    public init(rules: [CompiledRule], correlations: [CorrelationRule] = []) {
        self.rules = rules
        self.correlations = correlations
        self.prefilter = RulePrefilter(rules: rules)
    }

    /// The packs embedded in the binary, by the name that stands for them in place of a path:
    /// `builtin` (Vigil's own), `sigmahq` (SigmaHQ's Linux and macOS rules) and `default` (both).
    public static let packs: [String: [(file: String, text: String)]] = {
        let builtin = BuiltinRules.embedded.map { (file: "builtin:\($0.name)", text: $0.text) }
        let sigmahq = SigmaHQRules.embedded.map { (file: "sigmahq:\($0.name)", text: $0.text) }
        return ["builtin": builtin, "sigmahq": sigmahq, "default": builtin + sigmahq]
    }()

    /// The pack loaded when no rules are named.
    public static let defaultPack = "default"

    /// Loads rules from files and folders (`.yml`/`.yaml`, recursively) and embedded packs
    /// (`packs`, by name). A broken rule is reported in `entries` and never stops the others;
    /// so is a rule whose id (or a correlation whose name) another rule already has: the first
    /// one loads. Rules with a `deprecated` or `unsupported` status are listed as skipped unless
    /// `includeDeprecated`. A filter whose logsource does not fit a rule it names is reported
    /// in `errors` and not applied to that rule. `texts` (rules stored in the database, each
    /// with the name it is reported under) are read first, so they win over a pack rule of the
    /// same id.
    public static func load(paths: [String], texts: [(text: String, file: String)] = [], placeholders: [String: [String]] = [:],
                            includeDeprecated: Bool = false)
        -> (ruleSet: RuleSet, entries: [LoadEntry], errors: [DetectionError]) {
        // The rule texts, or why a file has none, in load order.
        var sources: [Result<(text: String, file: String), DetectionError>] = texts.map { .success($0) }
        for path in paths {
            if let pack = packs[path] {
                sources += pack.map { .success((text: $0.text, file: $0.file)) }
                continue
            }
            var listingErrors: [DetectionError] = []
            let files = ruleFiles(at: path, errors: &listingErrors)
            sources += listingErrors.map { .failure($0) }
            for file in files {
                // An empty file is not read: Foundation's reader leaks its buffer on one (found by fuzzing).
                let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int
                guard let data = size == 0 ? Data() : FileManager.default.contents(atPath: file) else {
                    sources.append(.failure(DetectionError(.io, "cannot read the rule file; check that it exists and is readable", file: file)))
                    continue
                }
                guard let text = String(validating: data, as: UTF8.self) else {
                    sources.append(.failure(DetectionError(.badYAML, "the rule file is not valid UTF-8", file: file)))
                    continue
                }
                sources.append(.success((text: text, file: file)))
            }
        }
        // YAML parsing is most of a pack's load time, and each text is read on its own: the
        // texts are read on every core, and their documents joined in load order.
        var outputs = [SigmaDocumentReader.Output](repeating: SigmaDocumentReader.Output(), count: sources.count)
        outputs.withUnsafeMutableBufferPointer { slots in
            let shared = UnsafeDisjointWrites(slots: slots, context: sources)
            DispatchQueue.concurrentPerform(iterations: sources.count) { index in
                var output = SigmaDocumentReader.Output()
                switch shared.context[index] {
                case .success(let source): SigmaDocumentReader.read(yaml: source.text, file: source.file, into: &output)
                case .failure(let error): output.errors.append(error)
                }
                shared.write(output, at: index)
            }
        }
        var output = SigmaDocumentReader.Output()
        for part in outputs {
            output.rules += part.rules
            output.filters += part.filters
            output.correlations += part.correlations
            output.errors += part.errors
        }
        let compiler = RuleCompiler(placeholders: placeholders)
        var rules: [CompiledRule] = []
        var entries: [LoadEntry] = []
        /// Where each loaded rule or correlation id, and correlation name, is defined.
        var loaded: [String: String] = [:]
        func duplicate(of key: String?, kind: String, at document: SigmaRuleDocument) -> DetectionError? {
            guard let key, let first = loaded[kind + key] else { return nil }
            return DetectionError(.badRule, "duplicate \(kind) '\(key)': \(first) has it too (that one loads); give this one its own",
                                  file: document.file, line: document.line)
        }
        func record(_ key: String?, kind: String, at document: SigmaRuleDocument) {
            if let key { loaded[kind + key] = "\(document.file):\(document.line)" }
        }
        for document in output.rules {
            var entry = LoadEntry(file: document.file, line: document.line, title: document.title, id: document.id)
            let status = document.body["status"]?.string?.lowercased() ?? ""
            if !includeDeprecated, retiredStatuses.contains(status) {
                entry.skipped = "status \(status); --include-deprecated loads it"
                entries.append(entry)
                continue
            }
            let fitting = output.filters.filter { filter in
                guard filter.ruleReferences.contains(where: { $0 == document.id || $0 == document.name }) else { return false }
                guard let mismatch = logSourceMismatch(filter: filter, rule: document) else { return true }
                output.errors.append(DetectionError(.badRule, "the filter's logsource (\(mismatch.filter)) does not fit rule \(document.id ?? document.title) (\(mismatch.rule)) at \(document.file):\(document.line); it is not applied to that rule",
                                                    file: filter.file, line: filter.line))
                return false
            }
            do throws(DetectionError) {
                if let error = duplicate(of: document.id, kind: "rule id", at: document) { throw error }
                rules.append(try compiler.compile(document, filters: fitting))
                record(document.id, kind: "rule id", at: document)
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
                do throws(DetectionError) {
                    if let error = duplicate(of: document.id, kind: "rule id", at: document) ?? duplicate(of: document.name, kind: "correlation name", at: document) {
                        throw error
                    }
                    correlations.append(try compiler.compileCorrelation(document, resolve: resolve))
                    record(document.id, kind: "rule id", at: document)
                    record(document.name, kind: "correlation name", at: document)
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

    /// Where a filter's logsource contradicts its rule's (a product, category or service both
    /// name, differently), the two as text; nil when the filter fits.
    static func logSourceMismatch(filter: SigmaFilterDocument, rule: SigmaRuleDocument) -> (filter: String, rule: String)? {
        let filterSource = RuleCompiler.logSource(filter.body["logsource"]), ruleSource = RuleCompiler.logSource(rule.body["logsource"])
        let pairs = [(filterSource.product, ruleSource.product), (filterSource.category, ruleSource.category), (filterSource.service, ruleSource.service)]
        guard pairs.contains(where: { pair in pair.0 != nil && pair.1 != nil && pair.0 != pair.1 }) else { return nil }
        return (filterSource.description, ruleSource.description)
    }

    /// The built-in pack alone.
    public static func builtin() -> RuleSet { load(paths: ["builtin"]).ruleSet }

    /// The default pack: the built-in rules and SigmaHQ's Linux and macOS rules.
    public static func defaultRules() -> RuleSet { load(paths: [defaultPack]).ruleSet }

    /// The rules whose id is not in `disabled`.
    public func excluding(ids disabled: Set<String>) -> RuleSet {
        disabled.isEmpty ? self : RuleSet(rules: rules.filter { !disabled.contains($0.info.id) },
                                          correlations: correlations.filter { !disabled.contains($0.info.id) })
    }

    /// The rule files at `path`: the file itself, or every `.yml`/`.yaml` file below the folder,
    /// sorted; a path that does not exist is an error in `errors`.
    public static func ruleFiles(at path: String, errors: inout [DetectionError]) -> [String] {
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
