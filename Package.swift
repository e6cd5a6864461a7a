// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "vibes-spool",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "VibesModels", targets: ["VibesModels"]),
        .library(name: "VibesSpool", targets: ["VibesSpool"]),
        .executable(name: "vibes-spool", targets: ["vibes-spool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // serve's HTTP server; its default traits (swift-configuration, full Foundation) are not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
    ],
    targets: [
        .systemLibrary(name: "CInotifyTools", path: "Sources/CInotifyTools"),
        .target(name: "CVibesSys"),
        .target(
            name: "VibesModels",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "VibesSpool",
            dependencies: [
                "VibesModels",
                "CInotifyTools",
                "CVibesSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "VibesAPI",
            dependencies: [
                "VibesModels",
                "VibesSpool",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "vibes-spool",
            dependencies: [
                "VibesModels",
                "VibesSpool",
                "VibesAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "FakeOllama",
            dependencies: [
                "VibesModels",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/FakeOllama"
        ),
        .target(
            name: "SpoolTestSupport",
            dependencies: ["VibesSpool", "VibesModels", "FakeOllama"],
            path: "Tests/SpoolTestSupport"
        ),
        .testTarget(
            name: "VibesModelsTests",
            dependencies: ["VibesModels", "FakeOllama"]
        ),
        .testTarget(
            name: "VibesSpoolTests",
            dependencies: [
                "VibesSpool", "VibesModels", "FakeOllama", "SpoolTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Tests that run the built `vibes-spool` as a child process.
        .testTarget(
            name: "VibesProcessTests",
            dependencies: ["VibesSpool", "VibesModels", "FakeOllama", "SpoolTestSupport"]
        ),
        .testTarget(
            name: "VibesAPITests",
            dependencies: [
                "VibesAPI", "VibesSpool", "VibesModels", "FakeOllama",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
