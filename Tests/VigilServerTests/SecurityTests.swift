import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VigilTestSupport
import VigilStore

/// Strings that break a query built by pasting text into SQL.
let injectionStrings = [
    "' OR '1'='1", "x'; DROP TABLE alerts; --", "\") OR 1=1 --", "%", "_", "web-01' --", "1 OR 1=1", "\\'; DELETE FROM events; --",
]

@Suite(.runsOn(.servers)) struct HTTPSecurityTests {
    /// Seeds one alert so that a filter leaking through would show it.
    func seeded() async throws -> ServerFixture {
        let fixture = try ServerFixture()
        let line = #"{"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"web-01"},"logsource":{"category":"antivirus"},"Signature":"Win.Test.EICAR_HDB-1","Filename":"/tmp/eicar"}"#
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken), body: ByteBuffer(string: line)) {
                #expect($0.status == .ok)
            }
        }
        return fixture
    }

    @Test(arguments: injectionStrings)
    func injectionInEveryAlertFilterFindsNothingAndChangesNothing(text: String) async throws {
        let fixture = try await seeded()
        let before = try fixture.store().count(.alerts)
        #expect(before > 0)
        let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        try await fixture.app().test(.router) { client in
            for parameter in ["machine", "rule", "technique", "integration", "search"] {
                try await client.execute(uri: "/api/v1/alerts?\(parameter)=\(encoded)", method: .get, headers: headers(fixture.apiKey)) { response in
                    #expect(response.status == .ok, "\(parameter)=\(text)")
                    #expect((json(response.body)["alerts"] as? [Any])?.count == 0, "\(parameter)=\(text) leaked rows")
                }
            }
            // Closed vocabularies refuse anything else outright.
            for parameter in ["status", "classification", "severity", "severity_in", "os", "sort", "order", "incident", "limit"] {
                try await client.execute(uri: "/api/v1/alerts?\(parameter)=\(encoded)", method: .get, headers: headers(fixture.apiKey)) { response in
                    #expect(response.status == .badRequest, "\(parameter)=\(text)")
                }
            }
            for uri in ["/api/v1/incidents?status=\(encoded)", "/api/v1/alerts/\(encoded)", "/api/v1/alerts?cursor=\(encoded)", "/api/v1/alerts?since=\(encoded)"] {
                try await client.execute(uri: uri, method: .get, headers: headers(fixture.apiKey)) { response in
                    #expect(response.status.code < 500, "\(uri) answered \(response.status)")
                }
            }
        }
        #expect(try fixture.store().count(.alerts) == before)
        #expect(try fixture.store().check().isHealthy)
    }

    @Test func aTokenPushingFasterThanTheLimitGets429WithRetryAfter() async throws {
        let fixture = try ServerFixture()
        try await fixture.app(pushesPerSecond: 1).test(.router) { client in
            // Eight pushes at once against one push a second (bursts of two): most are refused.
            let results = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let line = #"{"@timestamp":"2026-11-27T10:00:0\#(index)Z","host":{"name":"web-01"},"CommandLine":"n\#(index)"}"#
                        return try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken),
                                                        body: ByteBuffer(string: line)) { ($0.status, $0.headers[.retryAfter]) }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0.0 == .ok }.count >= 2)
            let refused = results.filter { $0.0 == .tooManyRequests }
            #expect(!refused.isEmpty)
            #expect(refused.allSatisfy { $0.1.flatMap(Int.init).map { $0 >= 1 } == true })
            // Another token has its own bucket.
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.clamavToken),
                                     body: ByteBuffer(string: "Fri Nov 27 20:23:01 2026 -> /tmp/x: Eicar-Signature FOUND\n")) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func aQueryOnlyServerRefusesPushesWith503() async throws {
        let fixture = try ServerFixture()
        try await fixture.app(acceptsPushes: false).test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken), body: ByteBuffer(string: "{}")) {
                #expect($0.status == .serviceUnavailable)
                #expect(String(buffer: $0.body).contains("--no-ingest"))
            }
            try await client.execute(uri: "/api/v1/alerts", method: .get, headers: headers(fixture.apiKey)) { #expect($0.status == .ok) }
        }
        #expect(try fixture.store().count(.events) == 0)
    }

    @Test func hostileBodiesAreRejectedRecordByRecordNeverA500() async throws {
        let fixture = try ServerFixture()
        let good = #"{"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"web-01"},"CommandLine":"ok"}"#
        let bodies: [(String, [UInt8])] = [
            ("invalid UTF-8 and NUL", Array(good.utf8) + [0x0A, 0xFF, 0xFE, 0x00, 0x0A] + Array(good.replacingOccurrences(of: "ok", with: "ok2").utf8)),
            ("deep nesting", Array((#"{"a":"# + String(repeating: "[", count: 100_000) + "\n" + good).utf8)),
            ("binary", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }),
            ("mixed CRLF", Array((good + "\r\n" + good.replacingOccurrences(of: "ok", with: "ok3") + "\n").utf8)),
            ("empty", []),
        ]
        try await fixture.app().test(.router) { client in
            for (name, body) in bodies {
                try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken), body: ByteBuffer(bytes: body)) { response in
                    #expect([.ok, .unprocessableContent].contains(response.status), "\(name): \(response.status) \(String(buffer: response.body))")
                }
            }
            // A truncated gzip body is an error for the whole push, with a reason, and stores nothing.
            var truncated = try gzipped(Array((good + "\n").utf8))
            truncated.removeLast(truncated.count / 2)
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken, [.contentEncoding: "gzip"]),
                                     body: ByteBuffer(bytes: truncated)) { response in
                #expect(response.status.code >= 400 && response.status.code < 500, "truncated gzip: \(response.status)")
                #expect(String(buffer: response.body).contains("gzip"))
            }
        }
        #expect(try fixture.store().check().isHealthy)
    }
}

func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-c"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(bytes))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}
