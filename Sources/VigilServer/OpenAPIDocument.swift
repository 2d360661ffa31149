/// The OpenAPI 3.1 document of this API, `openapi.yaml` at the repository root, embedded at
/// build time (see scripts/embed-resources.sh) and served at `GET /openapi.yaml`.
enum OpenAPIDocument {
    static var text: String { embedded[0].text + "\n" }
}
