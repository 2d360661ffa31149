import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Foundation
import VigilPipeline

/// One log line per request: method, path (never the query, which may carry filters only,
/// nor headers, which carry secrets), status, duration and the integration that pushed.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context: context, status: Int(response.status.code), started: started, integration: response.headers[.vigilIntegration])
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, context: context, status: Int(status), started: started, integration: nil)
            throw error
        }
    }

    private func log(_ request: Request, context: Context, status: Int, started: ContinuousClock.Instant, integration: String?) {
        metrics.request(status: status)
        let milliseconds = (ContinuousClock.now - started).seconds * 1000
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
            "duration_ms": "\(String(format: "%.1f", milliseconds))",
        ]
        if let integration { metadata["integration"] = "\(integration)" }
        context.logger.info("request", metadata: metadata)
    }
}

extension HTTPField.Name {
    /// Set on push responses so the request log can name the integration.
    static let vigilIntegration = HTTPField.Name("X-Vigil-Integration")!
}
