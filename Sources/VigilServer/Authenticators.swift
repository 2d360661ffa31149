import Hummingbird
import VigilIngest

/// Lets through requests with an API key (`admin` routes: an admin key) and records its
/// name; answers 401 (403 for a read key on an admin route) with what to do otherwise.
struct APIKeyAuthenticator: RouterMiddleware {
    typealias Context = VigilRequestContext
    let service: IngestService
    let admin: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let key = bearerCredential(request)
        if let key, key.hasPrefix(AccessToken.prefix) {
            throw apiError(.unauthorized, "this is a push token, which can only push data; read with an API key from `vigil apikey create`")
        }
        guard let granted = try await service.authorizeAPIKey(key) else {
            throw apiError(.unauthorized, key == nil ? "no API key: send 'Authorization: Bearer <key>' with a key from `vigil apikey create`"
                                                     : "the API key is unknown, revoked or expired; create one with `vigil apikey create`")
        }
        if admin && !granted.admin {
            throw apiError(.forbidden, "this API key may read and triage but not administer integrations; create one with `vigil apikey create NAME --admin`")
        }
        var context = context
        context.identity = .apiKey(name: granted.name, admin: granted.admin)
        return try await next(request, context)
    }
}

/// The gate's first half for pushes: a valid, unexpired, unrevoked push token of an
/// integration that is on, within its rate; records the token and its integration.
struct PushTokenAuthenticator: RouterMiddleware {
    typealias Context = VigilRequestContext
    let service: IngestService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let token = bearerCredential(request)
        switch try await service.authorizePush(token: token) {
        case .success(let granted):
            var context = context
            context.identity = .pushToken(id: granted.tokenID, integration: granted.integration, machines: granted.machines)
            return try await next(request, context)
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
    }
}
