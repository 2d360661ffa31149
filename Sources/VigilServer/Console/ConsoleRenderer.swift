import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The console's templates and assets, embedded in the binary (`console/`, through
/// scripts/embed-resources.sh), and the headers every console response carries.
struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary
    /// Asset name (`console.css`) to its text and content type.
    let assets: [String: (text: String, contentType: String)]

    /// The console's Content-Security-Policy: scripts, styles and data only from this server,
    /// no inline script or style, no framing, forms only back to this server.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// Parses every embedded template; a template that does not parse is a build defect, so it stops the server.
    init() {
        var library = MustacheLibrary()
        var assets: [String: (text: String, contentType: String)] = [:]
        for (name, text) in ConsoleResources.embedded {
            if name.hasPrefix("templates/"), name.hasSuffix(".mustache") {
                let template = String(name.dropFirst("templates/".count).dropLast(".mustache".count))
                do { try library.register(text, named: template) } catch { preconditionFailure("console template \(name) does not parse: \(error)") }
            } else if name.hasPrefix("assets/") {
                let asset = String(name.dropFirst("assets/".count))
                assets[asset] = (text, asset.hasSuffix(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8")
            }
        }
        self.library = library
        self.assets = assets
    }

    /// The page `template` rendered with `model`, with the console's security headers.
    func page(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        guard let html = library.render(model, withTemplate: template) else {
            preconditionFailure("there is no console template \(template)")
        }
        var fields = Self.securityHeaders
        fields[.contentType] = "text/html; charset=utf-8"
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A 303 redirect to a path on this server.
    static func redirect(to path: String, headers: HTTPFields = [:]) -> Response {
        var fields = securityHeaders
        fields[.location] = path
        fields.append(contentsOf: headers)
        return Response(status: .seeOther, headers: fields)
    }

    static var securityHeaders: HTTPFields {
        [.contentSecurityPolicy: contentSecurityPolicy, .xContentTypeOptions: "nosniff", .cacheControl: "no-store",
         .init("Referrer-Policy")!: "same-origin", .init("X-Frame-Options")!: "DENY"]
    }
}
