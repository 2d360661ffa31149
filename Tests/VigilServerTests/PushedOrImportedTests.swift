import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VigilTestSupport
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilServer
import VigilTooling
@testable import VigilStore

/// The order-and-batching invariant across the two ways in: the same events imported by the
/// CLI's pipeline, and pushed over HTTP shuffled within runs of a few lines in bodies of random
/// sizes, give the same alerts. `VIGIL_PROPERTY_SEED` picks another seed.
@Suite(.runsOn(.servers)) struct PushedOrImportedTests {
    static let seed = ProcessInfo.processInfo.environment["VIGIL_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_202

    static func alerts(_ store: Store) throws -> [String] {
        try store.connection.statement("""
            SELECT a.rule_id || ' ' || m.hostname || ' ' || a.event_count AS line FROM alerts a JOIN machines m ON m.id = a.machine_id ORDER BY 1
            """).rows { $0.text("line") }
    }

    @Test func pushedInRandomBodiesGivesWhatTheImportGives() async throws {
        let workspace = TemporaryDirectory()
        let file = try #require(try BenchWorkload.write(events: 6_000, to: workspace.url, formats: [.json]).first)
        let imported = try Store(path: workspace.path("imported.sqlite"))
        try imported.setIntegration("json", enabled: true, actor: "test")
        _ = try ImportPipeline(store: imported, ruleSet: .builtin()).importFiles([file.path], format: .fixed(.json), integration: "json", actor: "test")
        let expected = try Self.alerts(imported)
        #expect(expected.count >= 5)

        var random = SplitMix64(seed: Self.seed)
        var lines = try String(contentsOfFile: file.path, encoding: .utf8).split(separator: "\n").map(String.init)
        var start = 0
        while start < lines.count {
            let end = min(lines.count, start + Int.random(in: 2...6, using: &random))
            lines[start..<end].shuffle(using: &random)
            start = end
        }
        // Random bodies: 1 to 400 lines each.
        var bodies: [String] = []
        var next = 0
        while next < lines.count {
            let end = min(lines.count, next + Int.random(in: 1...400, using: &random))
            bodies.append(lines[next..<end].joined(separator: "\n") + "\n")
            next = end
        }
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { [bodies] client in
            for body in bodies {
                let status = try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken),
                                                      body: ByteBuffer(string: body)) { $0.status }
                #expect(status == .ok)
            }
        }
        #expect(try Self.alerts(fixture.store()) == expected, "seed \(Self.seed)")
    }
}
