import HTTPTypes
import Hummingbird
import VigilStore
import Logging
import VigilModel

/// Every error the API returns, in one shape: `{"error":{"code":"…","message":"…"}}`.
///
/// `code` is the status in snake_case (`unauthorized`, `content_too_large`, …), stable for
/// clients to branch on; `message` says what went wrong and what to do about it.
struct APIError: HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let message: String
    var headers: HTTPFields = [:]

    var code: String { Self.code(for: status) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(#"{"error":{"code":\#(JSONText.quoted(code)),"message":\#(JSONText.quoted(message))}}"#, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .badRequest: "bad_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .conflict: "conflict"
        case .contentTooLarge: "content_too_large"
        case .unsupportedMediaType: "unsupported_media_type"
        case .unprocessableContent: "unprocessable_content"
        case .tooManyRequests: "too_many_requests"
        case .serviceUnavailable: "service_unavailable"
        default: status.code >= 500 ? "internal_error" : "http_\(status.code)"
        }
    }
}

/// Gives errors raised by the framework (an unknown route, a bad path parameter, a body over
/// its limit) and unexpected failures the API's one error shape.
struct ErrorShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw APIError(status: error.status, message: error.body ?? Self.message(for: error.status, request: request), headers: error.headers)
        } catch let error as any HTTPResponseError {
            // Another of the framework's errors that knows its status: keep the status, give it the shape.
            throw APIError(status: error.status, message: Self.message(for: error.status, request: request))
        } catch let error as StoreError where error.isTransient {
            // Nothing of the request was committed; the same request again is likely to succeed.
            context.logger.warning("request failed, transiently: \(error)")
            throw APIError(status: .serviceUnavailable, message: """
                the database could not commit this request now (\(error.message)); nothing of it was stored: send it again after Retry-After
                """, headers: [.retryAfter: "1"])
        } catch {
            context.logger.error("request failed: \(error)")
            throw APIError(status: .internalServerError, message: "the server failed to answer this request; its log says why")
        }
    }

    static func message(for status: HTTPResponse.Status, request: Request) -> String {
        switch status {
        case .notFound: "there is no \(request.method) \(request.uri.path); the routes are listed in /openapi.yaml"
        default: status.reasonPhrase
        }
    }
}
