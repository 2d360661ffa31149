// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .library(name: "Vigil", targets: ["VigilModel", "VigilIngest", "VigilDetection", "VigilStore", "VigilPipeline", "VigilServer", "VigilTooling"]),
        // The engine without the server (no NIO or Hummingbird): what a release build of
        // Benchmarks/DetectionInstructions needs, so CI's instruction count builds quickly.
        .library(name: "VigilEngine", targets: ["VigilModel", "VigilIngest", "VigilDetection", "VigilStore", "VigilPipeline", "VigilTooling"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Both already resolved through Hummingbird; named for the channel handler API and the HTTP
        // request parts it sees (the slow-client timeouts), and NIOPosix's thread pools (SQLite off
        // the cooperative pool).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // Tests only: an independent RFC 4180 reader checks that `--format csv` reads back field for field.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The web console's pages: Mustache templates, HTML-escaped by default.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The scale-out backend: PostgreSQL's wire protocol, connections and pooling are not ours to write.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "VigilModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "VigilIngest",
            dependencies: ["VigilModel", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "VigilDetection",
            dependencies: ["VigilModel", "Yams"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "VigilStore",
            dependencies: ["VigilModel", "CSQLite"],
            swiftSettings: strictSettings
        ),
        // The PostgreSQL store (`--store postgresql://…`): the same store protocols as VigilStore's
        // SQLite, for several nodes on one database. Only the CLI and the tests link it.
        .target(
            name: "VigilPostgres",
            dependencies: [
                "VigilModel", "VigilStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The module graph: Model; Ingest, Detection and Store, each on Model; Pipeline on those
        // three; Server and the CLI on Pipeline (its modules are theirs to import, transitively).
        .target(
            name: "VigilPipeline",
            dependencies: ["VigilModel", "VigilIngest", "VigilDetection", "VigilStore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // Bench workloads, demo data, fixtures and the store ceiling: only the CLI's `bench`,
        // `demo` and `detection-test`, the tests and Benchmarks/ use them.
        .target(
            name: "VigilTooling",
            dependencies: ["VigilPipeline"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "VigilServer",
            dependencies: [
                "VigilPipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                // Delivery: webhooks over HTTP(S), and syslog over TLS. Both already resolve
                // through HummingbirdTesting; an HTTP client and TLS are not ours to write.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilPipeline", "VigilServer", "VigilTooling", "VigilPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // libFuzzer targets for every parser, the time readers, the JSON scanner and the rule
        // loader (scripts/fuzz.sh builds them with -sanitize=fuzzer); built plainly, it replays inputs.
        .executableTarget(
            name: "vigil-fuzz",
            dependencies: ["VigilIngest", "VigilDetection", "VigilModel"],
            swiftSettings: strictSettings
        ),
        // The threaded and unsafe-pointer code, driven and checked under AddressSanitizer and
        // ThreadSanitizer (scripts/sanitize.sh): small to build sanitized, unlike the test bundle.
        .executableTarget(
            name: "vigil-stress",
            dependencies: ["VigilPipeline", "VigilTooling", "CZlib"],
            swiftSettings: strictSettings
        ),
        // Test-only support: the threads that busy and server suites run on (TestThreads.swift says why),
        // and a fresh store of either backend (a PostgreSQL database of its own) for the tests that run on both.
        .target(
            name: "VigilTestSupport",
            dependencies: ["VigilPostgres", "VigilPipeline", "VigilTooling", .product(name: "PostgresNIO", package: "postgres-nio")],
            path: "Tests/VigilTestSupport", swiftSettings: strictSettings),
        .testTarget(name: "VigilModelTests", dependencies: ["VigilModel"], swiftSettings: strictSettings),
        .testTarget(name: "VigilIngestTests", dependencies: ["VigilIngest", "VigilTestSupport"], exclude: ["Golden"], swiftSettings: strictSettings),
        .testTarget(name: "VigilDetectionTests", dependencies: ["VigilDetection", "VigilIngest", "VigilTooling", "VigilTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "VigilStoreTests", dependencies: ["VigilStore", "VigilPostgres", "VigilPipeline", "VigilDetection", "VigilIngest", "VigilTooling", "VigilTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "VigilPipelineTests",
            dependencies: ["VigilPipeline", "VigilTooling", "VigilTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VigilServerTests",
            dependencies: [
                "VigilServer", "VigilStore", "VigilIngest", "VigilDetection", "VigilModel", "VigilTooling", "VigilTestSupport", "Yams",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "VigilFuzzTests", dependencies: ["VigilIngest", "VigilDetection", "VigilModel", "VigilTooling", "VigilTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "VigilCLITests",
            dependencies: [
                "vigil", "VigilTooling", "VigilTestSupport", "VigilPostgres", .product(name: "CSV", package: "CSV.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Real receivers and clients for delivery: a webhook receiver, the live stream's client, HMAC checks.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
