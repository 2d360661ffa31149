import Foundation
import Testing
import VigilTooling

/// openapi.yaml against the OpenAPI 3.1 schema and against a running `vigil serve`, through
/// scripts/check-api-contract.py (Python's openapi-spec-validator and jsonschema; `.ci/run`
/// installs them).
@Suite struct APIContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static let checker = root.appendingPathComponent("scripts/check-api-contract.py").path

    /// Runs the checker; its exit status and what it printed.
    static func check(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", checker] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func theDocumentIsValidOpenAPI31() throws {
        let result = try Self.check([])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func aBrokenDocumentFailsTheCheck() throws {
        // The flow-style mistake the document once had: an unquoted comma splits a description into stray keys.
        let scratch = TemporaryDirectory()
        let document = try String(contentsOf: Self.root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let broken = document.replacingOccurrences(of: "      description: No such alert or integration.\n",
                                                   with: "      description: No such alert\n      or integration: unknown\n")
        #expect(broken != document)
        try scratch.write("broken.yaml", broken)
        let result = try Self.check(["--document", scratch.url.appendingPathComponent("broken.yaml").path])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("not valid OpenAPI 3.1"))
    }

    @Test func everyDocumentedOperationAnswersAsDocumented() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav", arguments: ["--push-rate", "0"])
        defer { server.stop() }
        try await vigil(["integration", "on", "json"], in: scratch.url)
        func secret(_ arguments: [String]) async throws -> String {
            try await vigil(arguments, in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let environment = [
            "VIGIL_PUSH_TOKEN": server.token,
            "VIGIL_API_KEY": try await secret(["apikey", "create", "contract-reader"]),
            "VIGIL_ADMIN_KEY": try await secret(["apikey", "create", "contract-admin", "--admin"]),
        ]
        let port = server.port
        let log = Self.root.appendingPathComponent("../shared/corpus/logs/clamav/clamscan_l.log").standardized.path
        let result = try Self.check(["--server", "http://127.0.0.1:\(port)", "--clamav-log", log], environment: environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok: 25 operations"), "\(result.output)")
    }
}
