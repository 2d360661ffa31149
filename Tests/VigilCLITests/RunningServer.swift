import Foundation
import Testing
import VigilTooling

/// A `vigil serve` of the built binary on a fresh database in `scratch`, with one integration
/// on and a push token for it, answering on a random loopback port.
struct RunningServer {
    let process: Process
    let port: Int
    let token: String

    static func start(in scratch: TemporaryDirectory, integration: String, arguments: [String] = []) async throws -> RunningServer {
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", integration], in: scratch.url)
        let token = try await vigil(["integration", "token", integration], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = Int.random(in: 20_000...32_000)
        let process = try ReliabilityTests.start(["serve", "--port", String(port)] + arguments, in: scratch.url)
        let server = RunningServer(process: process, port: port, token: token)
        guard try await ReliabilityTests.waitForHealth(port: port) else {
            server.stop()
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "vigil serve did not answer /health on port \(port)"])
        }
        return server
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
