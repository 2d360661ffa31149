import Foundation
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime
import Testing

/// The onboarding flow, driven by a client generated from openapi.yaml against a real
/// `vigil serve` on loopback: if the document and the server disagree, this breaks.
@Suite struct SeedFlowTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardized

    @Test func theGeneratedClientRunsTheSeedFlow() async throws {
        let vigil = try VigilProcess()
        defer { vigil.stop() }
        try await vigil.waitUntilHealthy()
        let admin = vigil.client(bearer: vigil.adminKey)

        // 1. Turn clamav on with an admin key.
        let on = try await admin.turnIntegrationOn(path: .init(name: "clamav"))
        #expect(try on.ok.body.json.enabled == true)

        // 2. Issue a token.
        let issued = try await admin.issueToken(path: .init(name: "clamav"), body: .json(.init(valid_for: "1h"))).created.body.json
        #expect(issued.token.hasPrefix("vgl_"))
        #expect(issued.expires > Date())

        // 3. Push a real clamscan log of the EICAR file.
        let log = try Data(contentsOf: Self.repository.appendingPathComponent("../shared/corpus/logs/clamav/clamscan_l.log"))
        let sensor = vigil.client(bearer: issued.token)
        let pushed = try await sensor.pushEvents(query: .init(format: .clamav, hostname: "web-01"), body: .plainText(HTTPBody(log)))
        let result = try pushed.ok.body.json
        #expect(result.integration == "clamav")
        #expect(result.accepted > 0)
        #expect(result.alerts_raised > 0)

        // 4. Read the EICAR alert.
        let page = try await admin.listAlerts(query: .init(machine: "web-01", rule: "EICAR test file detected")).ok.body.json
        let eicar = try #require(page.alerts.first?.value1)
        #expect(eicar.title == "EICAR test file detected")
        #expect(eicar.hostname == "web-01")
        #expect(eicar.status == .new)

        // 5. Resolve it.
        let resolved = try await admin.updateAlert(
            path: .init(id: eicar.id),
            body: .json(.init(status: .resolved, classification: .true_positive, comment: "EICAR test: detection confirmed"))
        ).ok.body.json.value1
        #expect(resolved.status == .resolved)
        #expect(resolved.classification == .true_positive)

        // 6. Turn the integration off.
        let off = try await admin.turnIntegrationOff(path: .init(name: "clamav"))
        #expect(try off.ok.body.json.enabled == false)

        // 7. See the push refused: turning off revoked the token.
        let refused = try await sensor.pushEvents(query: .init(format: .clamav, hostname: "web-01"), body: .plainText(HTTPBody(log)))
        let error = try refused.unauthorized.body.json.error
        #expect(error.code == .unauthorized)
        #expect(error.message.contains("revoked"))
    }
}

/// A `vigil serve` of the root package's debug build on a fresh database, with an admin key.
final class VigilProcess: Sendable {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-client-\(UUID().uuidString)")
    let port = Int.random(in: 20_000...40_000)
    let adminKey: String
    private let server: Process

    init() throws {
        let binary = ProcessInfo.processInfo.environment["VIGIL_BINARY"]
            ?? SeedFlowTests.repository.appendingPathComponent(".build/debug/vigil").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw VigilProcessError("no vigil binary at \(binary): run `swift build` at the repository root first, or set VIGIL_BINARY")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try Self.run(binary, ["init"], in: directory)
        adminKey = try Self.run(binary, ["apikey", "create", "seed-flow", "--admin"], in: directory)
        server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["serve", "--port", String(port)]
        server.currentDirectoryURL = directory
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
    }

    func stop() {
        server.terminate()
        server.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    func client(bearer: String) -> Client {
        Client(
            serverURL: URL(string: "http://127.0.0.1:\(port)")!,
            configuration: Configuration(dateTranscoder: .iso8601WithFractionalSeconds),
            transport: AsyncHTTPClientTransport(),
            middlewares: [BearerAuthentication(credential: bearer)])
    }

    func waitUntilHealthy() async throws {
        let client = client(bearer: "")
        for _ in 0..<100 {
            if let health = try? await client.getHealth().ok.body.json, health.status == .ok { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw VigilProcessError("vigil serve did not answer /health on port \(port) within 10 s")
    }

    /// Runs a CLI command and returns its stdout, trimmed.
    static func run(_ binary: String, _ arguments: [String], in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw VigilProcessError("vigil \(arguments.joined(separator: " ")) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct VigilProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Sends `Authorization: Bearer <credential>` with every request.
struct BearerAuthentication: ClientMiddleware {
    let credential: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if !credential.isEmpty { request.headerFields[.authorization] = "Bearer \(credential)" }
        return try await next(request, body, baseURL)
    }
}
