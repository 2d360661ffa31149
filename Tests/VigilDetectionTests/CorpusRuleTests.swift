import Foundation
import Testing
import VigilTestSupport
import VigilDetection

@Suite(.runsOn(.busy)) struct CorpusRuleTests {
    static let files: [String] = {
        let root = corpusRoot + "/sigma"
        let enumerator = FileManager.default.enumerator(atPath: root)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".yml") { files.append(root + "/" + path) }
        }
        return files.sorted()
    }()

    @Test func theCorpusHoldsThe323Rules() {
        #expect(Self.files.count == 323)
    }

    @Test(arguments: CorpusRuleTests.files)
    func compiles(file: String) {
        let loaded = RuleSet.load(paths: [file])
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        #expect(loaded.entries.count == 1)
        #expect(loaded.entries.first?.error == nil, "\(String(describing: loaded.entries.first?.error))")
        #expect(loaded.ruleSet.rules.count == 1)
    }
}
