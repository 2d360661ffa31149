import Foundation
import Testing
@testable import VigilDetection

@Suite struct EmbeddedRulesTests {
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
}
