// swift-tools-version: 6.1
import PackageDescription

// A client generated from ../openapi.yaml by swift-openapi-generator drives the seed flow against
// a real `vigil serve`. It lives in its own package so the generator and its HTTP client never
// add to the `vigil` binary's build. Build `vigil` first (`swift build` at the root), then
// `swift test --package-path APIClientTests`.
let package = Package(
    name: "VigilAPIClientTests",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .testTarget(
            name: "SeedFlowTests",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
    ]
)
