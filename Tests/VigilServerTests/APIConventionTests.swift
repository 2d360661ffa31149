import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VigilTestSupport
@testable import VigilServer

/// The API's conventions, in-process: the served document, the one error shape.
@Suite(.runsOn(.servers)) struct APIConventionTests {
    static let documentFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../openapi.yaml").standardized

    @Test func theServedDocumentIsTheRepositorysOpenAPIYAML() async throws {
        let onDisk = try String(contentsOf: Self.documentFile, encoding: .utf8)
        #expect(OpenAPIDocument.text == onDisk, "openapi.yaml drifted from its embedded copy; run scripts/embed-resources.sh")
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/yaml")
                #expect(String(buffer: response.body) == onDisk)
            }
        }
    }

    /// Errors from the framework (unknown route, bad path parameter) and from Vigil share one shape.
    @Test func everyErrorHasOneShapeWithACodeAndAMessage() async throws {
        let fixture = try ServerFixture()
        let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
            (.get, "/api/v1/nothing-here", fixture.apiKey, .notFound, "not_found"),
            (.get, "/api/v1/alerts/not-a-number", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/alerts/999", fixture.apiKey, .notFound, "not_found"),
            (.get, "/api/v1/alerts?limit=-1", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/incidents?severity=huge", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/incidents?status=done", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/alerts?status=done", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/alerts?classification=true_negative", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/alerts?severity_in=high,bogus", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/alerts?incident=abc", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/alerts?incident=-1", fixture.apiKey, .badRequest, "bad_request"),
            (.get, "/api/v1/alerts", nil, .unauthorized, "unauthorized"),
            (.post, "/api/v1/integrations/clamav/off", fixture.apiKey, .forbidden, "forbidden"),
            (.post, "/api/v1/integrations/nosuch/on", fixture.adminKey, .notFound, "not_found"),
            (.post, "/api/v1/ingest?format=bogus", fixture.jsonToken, .unprocessableContent, "unprocessable_content"),
        ]
        try await fixture.app().test(.router) { client in
            for (method, uri, credential, status, code) in cases {
                try await client.execute(uri: uri, method: method, headers: headers(credential), body: ByteBuffer(string: "{}")) { response in
                    #expect(response.status == status, "\(method) \(uri)")
                    #expect(response.headers[.contentType] == "application/json", "\(method) \(uri)")
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any],
                                              "\(method) \(uri): \(String(buffer: response.body))")
                    #expect(Set(object.keys) == ["error"])
                    let error = try #require(object["error"] as? [String: Any])
                    #expect(Set(error.keys) == ["code", "message"], "\(method) \(uri)")
                    #expect(error["code"] as? String == code, "\(method) \(uri)")
                    #expect((error["message"] as? String ?? "").count > 10, "\(method) \(uri): the message says what to do")
                }
            }
        }
    }

    /// One vocabulary for statuses and classifications: `in-progress` and `in_progress` alike,
    /// in filters and updates.
    @Test func statusesAndClassificationsAreOneVocabulary() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await Self.pushOneAlert(client, fixture)
            try await client.execute(uri: "/api/v1/alerts/1", method: .patch, headers: headers(fixture.apiKey),
                                     body: ByteBuffer(string: #"{"status":"in-progress","classification":"true-positive"}"#)) {
                #expect($0.status == .ok)
            }
            for query in ["status=in-progress", "status=in_progress", "classification=true-positive", "classification=true_positive"] {
                try await client.execute(uri: "/api/v1/alerts?\(query)", method: .get, headers: headers(fixture.apiKey)) { response in
                    #expect(response.status == .ok)
                    #expect((json(response.body)["alerts"] as? [Any])?.count == 1, "\(query)")
                }
            }
            try await client.execute(uri: "/api/v1/incidents?status=in-progress", method: .get, headers: headers(fixture.apiKey)) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func metricsCanRequireAnAPIKey() async throws {
        let fixture = try ServerFixture()
        try await fixture.app(metricsRequireKey: true).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("--metrics-auth"))
            }
            try await client.execute(uri: "/metrics", method: .get, headers: headers(fixture.jsonToken)) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/metrics", method: .get, headers: headers(fixture.apiKey)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("vigil_http_requests_total"))
            }
        }
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// Pushes one antivirus event, which raises alert 1.
    static func pushOneAlert(_ client: some TestClientProtocol, _ fixture: ServerFixture) async throws {
        let event = #"{"hostname":"h","@timestamp":"2026-03-03T10:00:00Z","logsource":{"category":"antivirus"},"Signature":"Sig.1"}"#
        try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken), body: ByteBuffer(string: event)) {
            #expect($0.status == .ok)
        }
    }

    @Test func triageTakesSnakeCaseKeysOnly() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await Self.pushOneAlert(client, fixture)
            try await client.execute(uri: "/api/v1/alerts/1", method: .patch, headers: headers(fixture.apiKey),
                                     body: ByteBuffer(string: #"{"assignedTo":"carol"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("assigned_to"))
            }
            try await client.execute(uri: "/api/v1/alerts/1", method: .patch, headers: headers(fixture.apiKey),
                                     body: ByteBuffer(string: #"{"assigned_to":"carol"}"#)) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["assigned_to"] as? String == "carol")
            }
        }
    }
}
