import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import VigilDetection
import VigilIngest
import VigilModel
import VigilStore

/// `POST /api/v1/ingest?format=auto|…[&hostname=…]` with `Authorization: Bearer <push token>`.
///
/// The body is streamed through the framer and parser as it arrives (gzip decoded on the
/// way); its events are committed in one transaction once the body ends, and 200 is sent
/// only after that commit. A JSON array body is held whole (it is bounded by the body limit).
struct IngestController: Sendable {
    let service: IngestService
    let configuration: ServerConfiguration
    /// Rejected records listed in a reply, at most.
    static let rejectedListLimit = 100

    func push(_ request: Request, context: some RequestContext) async throws -> Response {
        // 1. The gate: a valid token of an integration that is on.
        let token = Self.bearer(request)
        let (tokenID, integration): (Int64, IngestGate.IntegrationState)
        switch try await service.authorizePush(token: token) {
        case .success(let granted): (tokenID, integration) = granted
        case .failure(let refusal):
            if case .integrationOff = refusal { throw apiError(.forbidden, refusal.description) }
            if case .rateLimited(let seconds) = refusal {
                throw apiError(.tooManyRequests, refusal.description, headers: [.retryAfter: String(seconds)])
            }
            if token?.hasPrefix(APIKey.prefix) == true {
                throw apiError(.unauthorized, "this is an API key, which can read and triage but never push; push with an integration token from `vigil integration token NAME`")
            }
            throw apiError(.unauthorized, refusal.description)
        }
        // 2. What the body is.
        let formatName = request.uri.queryParameters.get("format") ?? "auto"
        var format: SourceFormat?
        if formatName != "auto" {
            guard let named = SourceFormat(rawValue: formatName) else {
                throw apiError(.unprocessableContent, "unknown format '\(formatName)'; use auto or one of \(SourceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = named
        }
        // The gate's format check comes before any body byte reaches a parser: a named format
        // now, a detected one as soon as it is detected.
        let admit = { (format: SourceFormat) throws(IngestGate.Refusal) in
            try IngestGate.admit(integration, named: integration.name, format: format.rawValue)
        }
        if let format {
            do { try admit(format) } catch { throw try await refuseFormat(error, integration: integration.name) }
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.bodyLimit {
            throw apiError(.contentTooLarge, "the body is \(length) bytes; the limit is \(configuration.bodyLimit). Split the push into smaller ones.")
        }
        let encoding = request.headers[.contentEncoding]?.lowercased()
        guard encoding == nil || encoding == "gzip" || encoding == "identity" else {
            throw apiError(.unsupportedMediaType, "Content-Encoding '\(encoding!)' is not supported; send the body plain or gzip")
        }
        let decoder = encoding == "gzip" ? try GzipStreamDecoder() : nil
        let hostname = request.uri.queryParameters.get("hostname") ?? "unknown"
        let parserContext = ParserContext(integration: integration.name, defaultHostname: hostname)

        // 3. Stream the body through framer, parser and detector.
        var state = PushState(format: format, context: parserContext, ruleSet: configuration.ruleSet, admit: admit)
        var received = 0
        do {
            for try await chunk in request.body {
                try chunk.withUnsafeReadableBytes { bytes in
                    if let decoder {
                        try decoder.push(bytes) { decoded in
                            received += decoded.count
                            guard received <= configuration.bodyLimit else { throw PushState.Failure.tooLarge }
                            try state.push(decoded)
                        }
                    } else {
                        received += bytes.count
                        guard received <= configuration.bodyLimit else { throw PushState.Failure.tooLarge }
                        try state.push(bytes)
                    }
                }
            }
            try decoder?.finish()
            try state.finish()
        } catch PushState.Failure.tooLarge {
            throw apiError(.contentTooLarge, "the body exceeds the \(configuration.bodyLimit)-byte limit; nothing was stored. Split the push.")
        } catch PushState.Failure.undetectable {
            throw apiError(.unprocessableContent, "cannot tell the body's format; name it with ?format= (\(SourceFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        } catch let refusal as IngestGate.Refusal {
            throw try await refuseFormat(refusal, integration: integration.name)
        } catch let error as IngestError {
            throw apiError(.unsupportedMediaType, "the body cannot be read: \(error.message)")
        }
        guard let chosen = state.format else {
            throw apiError(.unprocessableContent, "the body is empty; send one record per line")
        }
        // 4. Commit, then answer.
        let batch = StoreWriter.PushedBatch(source: "http", format: chosen.rawValue, integration: integration.name, tokenID: tokenID,
                                            recordsRead: state.recordsRead, items: state.items, rejected: state.rejected)
        let outcome: BatchOutcome
        do {
            outcome = try await service.submit(batch)
        } catch let refusal as IngestGate.TokenRefusal {
            throw apiError(.forbidden, refusal.description)
        }
        let rejectedList = state.rejected.prefix(Self.rejectedListLimit).map { "{\"line\":\($0.line),\"reason\":\(JSONText.quoted($0.reason))}" }
        let body = """
            {"integration":\(JSONText.quoted(integration.name)),"format":\(JSONText.quoted(chosen.rawValue)),"records":\(state.recordsRead),\
            "accepted":\(outcome.stored),"duplicates":\(outcome.duplicates),"rejected":\(outcome.rejected),\
            "rejected_records":[\(rejectedList.joined(separator: ","))],"rejected_records_truncated":\(state.rejected.count > Self.rejectedListLimit),\
            "skipped":\(state.skipped),"alerts_raised":\(outcome.alertsRaised),"alerts_updated":\(outcome.alertsUpdated),\
            "future_dated":\(outcome.futureDated)}
            """
        var response = Response.json(body)
        response.headers[.vigilIntegration] = integration.name
        return response
    }

    /// Audits a format the integration does not send, and the 422 that answers it.
    private func refuseFormat(_ refusal: IngestGate.Refusal, integration: String) async throws -> APIError {
        try await service.recordRefusal(integration: integration, reason: refusal.description)
        return apiError(.unprocessableContent, refusal.description)
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "" }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}

/// One push's parse state: frames pushed bytes into records and turns them into detected events.
struct PushState {
    enum Failure: Error { case tooLarge, undetectable }

    private(set) var format: SourceFormat?
    private let context: ParserContext
    /// The gate's format check, run on a detected format before its parser sees a byte.
    private let admit: (SourceFormat) throws(IngestGate.Refusal) -> Void
    private var parser: (any EventParser)?
    private var detector: Detector
    private var splitter = LineSplitter()
    /// Bytes held until the format is known (or the whole body, for a JSON array).
    private var held: [UInt8] = []
    private var isArray = false
    private(set) var items: [BatchItem] = []
    private(set) var rejected: [RejectedRecord] = []
    private(set) var recordsRead = 0
    private var events: [Event] = []
    private var framed: [RecordFramer.Item] = []

    init(format: SourceFormat?, context: ParserContext, ruleSet: RuleSet, admit: @escaping (SourceFormat) throws(IngestGate.Refusal) -> Void) {
        self.format = format
        self.context = context
        self.admit = admit
        detector = Detector(ruleSet: ruleSet)
        if let format { parser = format.makeParser(context: context) }
    }

    var skipped: Int { parser?.skippedRecords ?? 0 }

    mutating func push(_ bytes: UnsafeRawBufferPointer) throws {
        if parser == nil || held.count > 0 || isArray {
            held.append(contentsOf: bytes)
            if !isArray, let first = held.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }), first == UInt8(ascii: "[") {
                isArray = true
            }
            if isArray { return }
            // Decide the format once a few lines are in.
            guard held.count >= 65_536 || held.filter({ $0 == 0x0A }).count >= 20 else { return }
            try startLines()
            return
        }
        splitter.push(bytes, into: &framed)
        drain()
    }

    mutating func finish() throws {
        if isArray {
            let framer = RecordFramer(source: try ByteSource(bytes: held, name: "body"))
            if parser == nil {
                guard let detected = SourceFormat.detect(sample: try framer.sample()) else { throw Failure.undetectable }
                try admit(detected)
                format = detected
                parser = detected.makeParser(context: context)
            }
            var more = true
            while more {
                more = try framer.next(into: &framed, limit: 4096)
                drain()
            }
        } else {
            if !held.isEmpty { try startLines() }
            splitter.finish(into: &framed)
            drain()
        }
        if parser != nil {
            parser!.finish(into: &events)
            detectEvents()
        }
    }

    private mutating func startLines() throws {
        if parser == nil {
            let sample = String(decoding: held.prefix(65_536), as: UTF8.self).split(separator: "\n").prefix(50).map(String.init)
            if sample.isEmpty { return }
            guard let detected = SourceFormat.detect(sample: sample) else { throw Failure.undetectable }
            try admit(detected)
            format = detected
            parser = detected.makeParser(context: context)
        }
        let bytes = held
        held.removeAll()
        bytes.withUnsafeBytes { splitter.push($0, into: &framed) }
        drain()
    }

    private mutating func drain() {
        guard parser != nil else { return }
        for item in framed {
            recordsRead += 1
            switch item {
            case .record(let record): if let rejection = parser!.parse(record, into: &events) { rejected.append(rejection) }
            case .rejected(let rejection): rejected.append(rejection)
            }
        }
        framed.removeAll(keepingCapacity: true)
        detectEvents()
    }

    private mutating func detectEvents() {
        for event in events {
            var detections: [Detection] = []
            detector.detect(event, into: &detections)
            items.append(BatchItem(event: event, key: EventKey.compute(event), detections: detections))
        }
        events.removeAll(keepingCapacity: true)
    }
}
