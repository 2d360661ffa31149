import Foundation
import Testing
import VigilTestSupport
@testable import VigilDetection
import VigilModel

@Suite(.runsOn(.busy)) struct EmbeddedRulesTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../rules/builtin").standardized

    @Test func embeddedBuiltinRulesMatchTheRulesFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".yml") }.sorted()
        #expect(files == BuiltinRules.embedded.map(\.name), "run scripts/embed-resources.sh")
        for (name, text) in BuiltinRules.embedded {
            let onDisk = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
            #expect(onDisk == text + "\n", "\(name) drifted from rules/builtin/; run scripts/embed-resources.sh")
        }
    }

    /// The vendored SigmaHQ pack in the binary is rules/sigmahq/ as it is on disk.
    @Test func embeddedSigmaHQRulesMatchTheVendoredFolder() throws {
        let root = Self.folder.deletingLastPathComponent().appendingPathComponent("sigmahq")
        let walker = try #require(FileManager.default.enumerator(atPath: root.path))
        let files = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".yml") }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(files.count == 323)
        #expect(files == SigmaHQRules.embedded.map(\.name), "run scripts/embed-resources.sh")
        for (name, text) in SigmaHQRules.embedded {
            let onDisk = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            #expect(onDisk == text + "\n", "\(name) drifted from rules/sigmahq/; run scripts/embed-resources.sh")
        }
    }

    /// `default` is the built-in pack and the vendored SigmaHQ pack, and is what loads when no rules are named.
    @Test func theDefaultPackIsBuiltinPlusSigmaHQ() {
        let builtin = RuleSet.load(paths: ["builtin"]), sigmahq = RuleSet.load(paths: ["sigmahq"]), pack = RuleSet.load(paths: [RuleSet.defaultPack])
        #expect(RuleSet.defaultPack == "default")
        #expect(pack.entries.allSatisfy { $0.error == nil } && pack.errors.isEmpty)
        #expect(pack.ruleSet.rules.count == builtin.ruleSet.rules.count + sigmahq.ruleSet.rules.count)
        #expect(pack.ruleSet.correlations.count == builtin.ruleSet.correlations.count)
        #expect(pack.ruleSet.rules.contains { $0.info.file.hasPrefix("sigmahq:rules/linux/") && !$0.info.author.isEmpty })
    }
}
