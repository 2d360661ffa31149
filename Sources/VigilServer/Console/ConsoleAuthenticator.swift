import Foundation
import HTTPTypes
import Hummingbird
import Logging
import VigilIngest

/// Lets through console requests with a live session: the session cookie names an unexpired
/// session whose API key is still valid (checked on every request, so a revoked key signs its
/// sessions out). Pages for admin keys only answer 403 to read-only sessions. Every request
/// that is not a GET must carry the session's CSRF token as the form field `csrf` (or the
/// `X-CSRF-Token` header); its form is parsed here, once, into the context.
struct ConsoleAuthenticator: RouterMiddleware {
    typealias Context = VigilRequestContext
    let sessions: ConsoleSessions
    let service: IngestService
    let admin: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let id = Self.sessionID(request), let session = try await sessions.session(id: id),
              let granted = try await service.authorizeAPIKey(hash: session.keyHash) else {
            if request.method == .get {
                let path = request.uri.path
                return ConsoleRenderer.redirect(to: path == "/" ? "/login" : "/login?next=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            }
            throw ConsoleError(.unauthorized, "You are signed out (the session expired, or its API key was revoked). Sign in again.")
        }
        if admin && !granted.admin {
            throw ConsoleError(.forbidden, "This page is for admin API keys; you signed in with a read-only key. Sign in with a key from `vigil apikey create NAME --admin`.")
        }
        var context = context
        context.identity = .apiKey(name: granted.name, admin: granted.admin)
        context.consoleSession = session
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(upTo: ConsoleForm.byteLimit)
        guard let form = ConsoleForm(String(buffer: body)) else {
            throw ConsoleError(.badRequest, "The form could not be read (it is not URL-encoded UTF-8). Reload the page and try again.")
        }
        let presented = form["csrf"] ?? request.headers[HTTPField.Name("X-CSRF-Token")!] ?? ""
        guard AccessToken.constantTimeEqual(Array(presented.utf8), Array(session.csrf.utf8)) else {
            throw ConsoleError(.forbidden, "The form's security token is missing or stale (CSRF check). Reload the page and submit it again.")
        }
        context.form = form
        return try await next(request, context)
    }

    /// The session id from the request's `Cookie` header, if it carries one.
    static func sessionID(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == ConsoleSessions.cookieName {
                    return String(parts[1]).trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }
}

/// A console failure shown as a page: what went wrong and what to do.
struct ConsoleError: Error {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// Shows console failures (`ConsoleError`, a missing route parameter, an unexpected error) as
/// the console's error page instead of the API's JSON.
struct ConsoleErrorPages: RouterMiddleware {
    typealias Context = VigilRequestContext
    let renderer: ConsoleRenderer

    struct Model {
        let layout: ConsoleLayout
        let status: Int
        let message: String
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        /// The error page for `status`, saying `message`.
        func page(_ status: HTTPResponse.Status, _ message: String) -> Response {
            renderer.page("error", Model(layout: ConsoleLayout(title: "Error", context: context), status: Int(status.code), message: message), status: status)
        }
        do {
            return try await next(request, context)
        } catch let error as ConsoleError {
            return page(error.status, error.message)
        } catch let error as APIError {
            // A read the console shares with the API (the database cannot be opened, a bad parameter).
            return page(error.status, error.message)
        } catch let error as HTTPError {
            return page(error.status, error.status == .contentTooLarge ? "The form is larger than this server accepts." : (error.body ?? "The request could not be served."))
        } catch {
            context.logger.error("console request failed: \(error)")
            return page(.internalServerError, "The server failed to show this page; its log says why.")
        }
    }
}
