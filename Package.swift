// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
/// Library modules' imports are internal unless marked `public import`, so a module's public
/// interface names exactly the modules it exposes and the compiler holds the layering.
let layeredSettings = swiftSettings + [.enableUpcomingFeature("InternalImportsByDefault")]

let package = Package(
    name: "s3kv",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "s3kv", targets: ["s3kv"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Wire formats both servers and the client speak: HTTP dates, ISO 8601, hex, percent-encoding.
        .target(name: "WireFormat", swiftSettings: layeredSettings),
        // The S3 protocol, shared by our client and our server: SigV4 signing and verifying,
        // checksums, XML reading and writing, S3's error vocabulary.
        .target(
            name: "S3Protocol",
            dependencies: [
                "WireFormat",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: layeredSettings
        ),
        // The storage contract (S3 semantics) alone: bodies, conditions, listing, instrumentation.
        .target(
            name: "ObjectStore",
            dependencies: [
                "WireFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: layeredSettings
        ),
        // The contract's memory and on-disk implementations (SQLite via GRDB, files beside it).
        .target(
            name: "LocalStores",
            dependencies: [
                "ObjectStore", "WireFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: layeredSettings
        ),
        // Our S3 client: SigV4, requests over AsyncHTTPClient, XML; S3ObjectStore.
        .target(
            name: "S3",
            dependencies: [
                "ObjectStore",
                "S3Protocol",
                "WireFormat",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: layeredSettings
        ),
        // The key-value domain: keys, entries, conditions; talks only to ObjectStore.
        .target(
            name: "KVStore",
            dependencies: [
                "ObjectStore",
                "WireFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: layeredSettings
        ),
        // The HTTP API on Hummingbird 2.
        // What both HTTP servers share: request ids, HTTP metrics and the access log, the metrics
        // registry, JSON logs, readiness during shutdown.
        .target(
            name: "ServerSupport",
            dependencies: [
                "WireFormat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: layeredSettings
        ),
        .target(
            name: "KVServer",
            dependencies: [
                "KVStore",
                "ObjectStore",
                "ServerSupport",
                "WireFormat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Resources/openapi.json"), .embedInCode("Resources/docs.html")],
            swiftSettings: layeredSettings
        ),
        // The S3-compatible server: the S3 REST API over buckets of the storage contract.
        .target(
            name: "S3Server",
            dependencies: [
                "ObjectStore", "LocalStores",
                "S3Protocol",
                "ServerSupport",
                "WireFormat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: layeredSettings
        ),
        // `s3kv verify`: the API's workflows run against a live deployment, and a load phase.
        .target(
            name: "KVVerify",
            dependencies: [
                "WireFormat",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: layeredSettings
        ),
        // The C allocator's settings (glibc's mmap threshold), for the command line.
        .target(name: "CAllocator"),
        // The command line: configuration, wiring, lifecycle.
        .executableTarget(
            name: "s3kv",
            dependencies: [
                "CAllocator",
                "KVServer",
                "KVStore",
                "KVVerify",
                "ObjectStore", "LocalStores",
                "S3",
                "S3Protocol",
                "S3Server",
                "ServerSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // A reference for scripts/bench: the smallest Hummingbird server, the framework's floor.
        .executableTarget(
            name: "hummingbird-floor",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HummingbirdFloor",
            swiftSettings: swiftSettings
        ),
        // What the test targets share: a fault-injecting store, a manual clock, the backends.
        .target(
            name: "TestSupport",
            dependencies: [
                "ObjectStore", "LocalStores", "KVStore", "S3", "S3Protocol", "S3Server", "ServerSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        // malloc's statistics, for the memory measurements below.
        .target(name: "CHeapStats", path: "Benchmarks/CHeapStats"),
        // Measures the value cache's memory against its accounting, in a process of its own.
        .executableTarget(
            name: "cache-memory",
            dependencies: [
                "KVStore", "ObjectStore", "CHeapStats",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/CacheMemory",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ObjectStoreTests",
            dependencies: [
                "ObjectStore", "LocalStores", "S3", "S3Protocol", "WireFormat", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "S3Tests",
            dependencies: [
                "S3", "S3Protocol", "WireFormat", "ObjectStore", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["aws-sigv4"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "S3ServerTests",
            dependencies: [
                "S3Server", "S3Protocol", "ObjectStore", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KVStoreTests",
            dependencies: [
                "KVStore", "ObjectStore", "LocalStores", "S3", "S3Protocol", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KVServerTests",
            dependencies: [
                "KVServer", "KVStore", "ObjectStore", "LocalStores", "ServerSupport", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "s3kv",
                "S3",
                "S3Protocol",
                "WireFormat",
                "ObjectStore",
                "TestSupport",
                "ServerSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
