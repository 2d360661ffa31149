import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// `POST /api/v1/ingest?format=auto|…[&hostname=…]` behind `PushTokenAuthenticator`.
///
/// The body is taken as it arrives (gunzipped on the way, never past the body limit), its
/// records are counted (the per-push cap and the token's event budget), and then the batch
/// pipeline reads it batch by batch inside one write transaction; 200 is sent only after that
/// commit.
struct IngestController: Sendable {
    let service: IngestService
    let configuration: ServerConfiguration

    @Sendable func push(_ request: Request, context: VigilRequestContext) async throws -> Response {
        let (tokenID, integration, machines) = context.pushToken
        let format = try await namedFormat(request, integration: integration)
        let acceptIngestTime = try flag(request, "accept_ingest_time")
        let body = try await readBody(request)
        let hostname = request.uri.queryParameters.get("hostname") ?? "unknown"
        guard !hostname.allSatisfy(\.isWhitespace) else {
            throw apiError(.badRequest, "hostname must name a machine; leave it out when the records name their own")
        }
        let pushed = try await prepare(body, format: format, integration: integration, machines: machines, tokenID: tokenID, hostname: hostname,
                                       acceptIngestTime: acceptIngestTime)
        if let wait = await service.chargeEvents(tokenID: tokenID, records: pushed.records) {
            throw apiError(.tooManyRequests, "this token pushed more records than its rate allows; nothing of this push was stored. Retry in \(wait) s.",
                           headers: [.retryAfter: String(wait)])
        }
        let outcome: PushOutcome
        do {
            outcome = try await service.submit(pushed)
        } catch let refusal as IngestGate.TokenRefusal {
            throw apiError(.forbidden, refusal.description)
        }
        var response = try PushReply(pushed, outcome).response(from: request, context: context)
        response.headers[.vigilIntegration] = integration.name
        return response
    }

    /// A true/false query parameter (absent is false); anything else is a 400.
    private func flag(_ request: Request, _ name: String) throws -> Bool {
        switch request.uri.queryParameters.get(name)?.lowercased() {
        case nil, "false", "0": return false
        case "true", "1": return true
        case let other?: throw apiError(.badRequest, "\(name) must be true or false, not '\(other)'")
        }
    }

    /// `?format=`: nil for `auto`. A named format is checked against the integration before any body byte is read.
    private func namedFormat(_ request: Request, integration: IngestGate.IntegrationState) async throws -> SourceFormat? {
        let name = request.uri.queryParameters.get("format") ?? "auto"
        guard name != "auto" else { return nil }
        guard let format = SourceFormat(rawValue: name) else {
            throw apiError(.unprocessableContent, "unknown format '\(name)'; use auto or one of \(SourceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try await admit(format, integration: integration)
        return format
    }

    /// The gate's format check; a refusal is audited and answered with 422.
    private func admit(_ format: SourceFormat, integration: IngestGate.IntegrationState) async throws {
        do {
            try IngestGate.admit(integration, named: integration.name, format: format.rawValue)
        } catch {
            try await service.recordRefusal(integration: integration.name, reason: error.description)
            throw apiError(.unprocessableContent, error.description)
        }
    }

    /// The body, gunzipped when it says so, never more than the body limit (counted after decoding).
    private func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = configuration.bodyLimit
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw apiError(.contentTooLarge, "the body is \(length) bytes; the limit is \(limit). Split the push into smaller ones.")
        }
        let encoding = request.headers[.contentEncoding]?.lowercased()
        guard encoding == nil || encoding == "gzip" || encoding == "identity" else {
            throw apiError(.unsupportedMediaType, "Content-Encoding '\(encoding!)' is not supported; send the body plain or gzip")
        }
        let decoder = encoding == "gzip" ? try GzipStreamDecoder() : nil
        let tooLarge = apiError(.contentTooLarge, "the body exceeds the \(limit)-byte limit; nothing was stored. Split the push.")
        var body: [UInt8] = []
        do {
            for try await chunk in request.body {
                try chunk.withUnsafeReadableBytes { bytes in
                    if let decoder {
                        try decoder.push(bytes) { decoded in
                            guard body.count + decoded.count <= limit else { throw tooLarge }
                            body.append(contentsOf: decoded)
                        }
                    } else {
                        guard body.count + bytes.count <= limit else { throw tooLarge }
                        body.append(contentsOf: bytes)
                    }
                }
            }
            try decoder?.finish()
        } catch let error as IngestError {
            throw apiError(.unsupportedMediaType, "the body cannot be read: \(error.message)")
        }
        return body
    }

    /// The body's reader (format detection, gated before any record is parsed) and its record
    /// count, capped; its first batch is parsed here, the rest batch by batch in the commit.
    private func prepare(_ body: [UInt8], format: SourceFormat?, integration: IngestGate.IntegrationState, machines: HostPatterns,
                         tokenID: Int64, hostname: String, acceptIngestTime: Bool) async throws -> PushedBatch {
        guard body.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
            throw apiError(.unprocessableContent, "the body is empty; send one record per line")
        }
        let reader: BatchReader
        do {
            reader = try BatchReader(source: ByteSource(bytes: body, name: "body", decompress: false), format: format,
                                     context: ParserContext(integration: integration.name, defaultHostname: hostname, acceptIngestTime: acceptIngestTime),
                                     ruleSet: configuration.ruleSet, admit: { try IngestGate.admit(integration, named: integration.name, format: $0.rawValue) },
                                     refuseEvent: { IngestGate.refusal(of: $0, from: integration, token: machines) })
        } catch let refusal as IngestGate.Refusal {
            try await service.recordRefusal(integration: integration.name, reason: refusal.description)
            throw apiError(.unprocessableContent, refusal.description)
        } catch is IngestError {
            throw apiError(.unprocessableContent, "cannot tell the body's format; name it with ?format= (\(SourceFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let cap = configuration.maxEventsPerPush
        do {
            let records = try RecordFramer.countRecords(of: ByteSource(bytes: body, name: "body", decompress: false), upTo: cap)
            guard records <= cap else {
                throw apiError(.contentTooLarge, "the push holds more than \(cap) records; nothing was stored. Split it into smaller pushes.")
            }
            return try PushedBatch(source: "http", format: reader.format.rawValue, integration: integration.name, tokenID: tokenID,
                                   records: records, reader: reader)
        } catch let error as IngestError {
            throw apiError(.unprocessableContent, "the body cannot be read: \(error.message); nothing was stored")
        }
    }
}

/// The answer to a push, once its batch committed.
struct PushReply: ResponseEncodable {
    struct Rejection: Encodable {
        var line: Int
        var reason: String
    }

    var integration: String
    var format: String
    var records: Int
    var accepted: Int
    var duplicates: Int
    var rejected: Int
    var rejectedRecords: [Rejection]
    var rejectedRecordsTruncated: Bool
    var skipped: Int
    var alertsRaised: Int
    var alertsUpdated: Int
    var futureDated: Int
    var ingestTimed: Int

    init(_ pushed: PushedBatch, _ push: PushOutcome) {
        let outcome = push.outcome
        integration = pushed.integration
        format = pushed.format
        records = push.recordsRead
        accepted = outcome.stored
        duplicates = outcome.duplicates
        rejected = outcome.rejected
        rejectedRecords = push.rejectedSample.map { Rejection(line: $0.line, reason: $0.reason) }
        rejectedRecordsTruncated = outcome.rejected > push.rejectedSample.count
        skipped = push.skipped
        alertsRaised = outcome.alertsRaised
        alertsUpdated = outcome.alertsUpdated
        futureDated = outcome.futureDated
        ingestTimed = outcome.ingestTimed
    }

    enum CodingKeys: String, CodingKey {
        case integration, format, records, accepted, duplicates, rejected
        case rejectedRecords = "rejected_records", rejectedRecordsTruncated = "rejected_records_truncated"
        case skipped, alertsRaised = "alerts_raised", alertsUpdated = "alerts_updated", futureDated = "future_dated"
        case ingestTimed = "ingest_timed"
    }
}
