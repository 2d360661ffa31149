// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so their dependencies never slow the main build.
// Run with: swift package --package-path Benchmarks benchmark
let package = Package(
    name: "VigilBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the dependency does not depend on the name of the folder the repository is cloned into.
        .package(name: "Vigil", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: ["Parsing", "Detection", "Correlation", "StoreWrites", "AlertQueries", "HuntingQueries", "EndToEnd", "ServerLatency", "ConsolePages"].map { suite in
        .executableTarget(
            name: suite,
            dependencies: [.product(name: "Vigil", package: "Vigil"), .product(name: "Benchmark", package: "benchmark")],
            path: suite,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    } + [
        // Not a benchmark: the program scripts/detection-instructions.sh runs under callgrind.
        .executableTarget(name: "DetectionInstructions", dependencies: [.product(name: "VigilEngine", package: "Vigil")], path: "DetectionInstructions"),
    ]
)
