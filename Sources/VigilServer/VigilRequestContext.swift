import Foundation
import Hummingbird
import VigilIngest
import VigilModel

/// Who a request was authenticated as, set by the authentication middleware of its route group.
enum RequestIdentity: Sendable {
    /// A push token of `integration`, bound to `machines`.
    case pushToken(id: Int64, integration: IngestGate.IntegrationState, machines: HostPatterns)
    /// An API key called `name`.
    case apiKey(name: String, admin: Bool)
}

/// The request context of every route: the identity the route group's middleware set, and
/// JSON responses written by `JSONEncoder.vigil`.
public struct VigilRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var identity: RequestIdentity?
    /// The web console's session; only behind `ConsoleAuthenticator`.
    var consoleSession: ConsoleSessions.Session?
    /// The submitted form of a console request that is not a GET, CSRF-checked; set by
    /// `ConsoleAuthenticator`. Handlers read it through `submittedForm`.
    var form: ConsoleForm?

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    public var responseEncoder: JSONEncoder { .vigil }

    /// The API key's name, for the audit log (`apikey:<name>`); only behind `APIKeyAuthenticator`.
    var keyActor: String {
        guard case .apiKey(let name, _) = identity else {
            preconditionFailure("the route is not behind APIKeyAuthenticator")
        }
        return "apikey:\(name)"
    }

    /// The console form `ConsoleAuthenticator` parsed and CSRF-checked; only in handlers of
    /// console requests that are not a GET.
    var submittedForm: ConsoleForm {
        guard let form else { preconditionFailure("the route is not a console form behind ConsoleAuthenticator") }
        return form
    }

    /// The push token and its integration; only behind `PushTokenAuthenticator`.
    var pushToken: (id: Int64, integration: IngestGate.IntegrationState, machines: HostPatterns) {
        guard case .pushToken(let id, let integration, let machines) = identity else {
            preconditionFailure("the route is not behind PushTokenAuthenticator")
        }
        return (id, integration, machines)
    }
}

/// The bearer credential of a request: nil without an Authorization header, empty when the
/// header is not `Bearer <credential>`.
func bearerCredential(_ request: Request) -> String? {
    guard let header = request.headers[.authorization] else { return nil }
    let parts = header.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "" }
    return String(parts[1]).trimmingCharacters(in: .whitespaces)
}
