// swift-tools-version: 6.2
//
// Sockeye: a Slack Socket Mode delivery engine.
// Layers (see docs/architecture.md): SockeyeCore (sans-IO) <- SockeyeTransport <- SockeyeABI (libsockeye.so,
// include/sockeye.h) and Sockeye (the Swift API).
import PackageDescription

/// Flags for every target we own: warnings are bugs.
let strictSwift: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
]

/// libsockeye.so is self-contained (Swift runtime linked statically), carries a soname,
/// and exports only `sockeye_*` (include/sockeye.map).
let sharedLibraryLinkerFlags: [LinkerSetting] = [
    .unsafeFlags([
        "-static-stdlib",
        "-Xlinker", "-soname=libsockeye.so.0",
        "-Xlinker", "--version-script=\(Context.packageDirectory)/include/sockeye.map",
    ]),
]

let package = Package(
    name: "sockeye",
    products: [
        .library(name: "sockeye", type: .dynamic, targets: ["SockeyeABI"]),
        .library(name: "SockeyeCore", targets: ["SockeyeCore"]),
        .library(name: "Sockeye", targets: ["Sockeye"]),
    ],
    dependencies: [],
    targets: [
        // System libraries from Debian's -dev packages, found through pkg-config.
        .systemLibrary(
            name: "CLibWebSockets",
            pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev"])]
        ),
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),

        // include/sockeye.h as a Swift module, so the ABI is written against its exact types.
        .systemLibrary(name: "CSockeye"),

        // 16-byte classification kernels (SSE2 / NEON) the scanner inlines; header-only.
        .target(
            name: "CSockeyeSIMD",
            cSettings: [.unsafeFlags(["-std=c11", "-Wall", "-Wextra", "-Werror"])]
        ),

        // The sans-IO protocol core: no sockets, threads or clock of its own.
        .target(
            name: "SockeyeCore",
            dependencies: ["CSockeyeSIMD"],
            swiftSettings: strictSwift
        ),

        // The C ABI: @_cdecl exports behind include/sockeye.h.
        .target(
            name: "SockeyeABI",
            dependencies: ["SockeyeCore", "SockeyeTransport", "CLibWebSockets", "CSockeye"],
            swiftSettings: strictSwift,
            linkerSettings: sharedLibraryLinkerFlags
        ),

        // The OpenSSL helpers in C, one file per job: TLS over memory BIOs for the transport
        // (lws 4.1's raw client cannot start TLS), HMAC-SHA256 for Slack's request signatures,
        // and for the simulator and tests a self-signed certificate and blocking TLS streams.
        .target(
            name: "CSockeyeOpenSSL",
            cSettings: [.unsafeFlags(["-std=c11", "-Wall", "-Wextra", "-Werror"])],
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),

        // The transport: libwebsockets as a raw-socket event loop driving the core.
        .target(
            name: "SockeyeTransport",
            dependencies: ["SockeyeCore", "CLibWebSockets", "CSockeyeOpenSSL"],
            swiftSettings: strictSwift
        ),

        // The Swift front end: SocketModeClient, events as an AsyncSequence.
        .target(
            name: "Sockeye",
            dependencies: ["SockeyeTransport", "SockeyeCore",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strictSwift
        ),

        .testTarget(
            name: "SockeyeCoreTests",
            dependencies: ["SockeyeCore", "CJansson"],
            swiftSettings: strictSwift
        ),
    ]
)

// MARK: - Benchmarks (benchmarks/; see benchmarks/README.md)
//
// `swift run -c release scanner-bench [--smoke]`: the envelope scanner against jansson,
// simdjson (on-demand and DOM) and Foundation's JSONSerialization. Nothing here ships: the
// malloc-counting interposer must only ever be linked into the benchmark executable.
package.products.append(contentsOf: [
    .executable(name: "scanner-bench", targets: ["ScannerBenchmark"]),
    .executable(name: "core-path-bench", targets: ["CorePathBenchmark"]),
])
package.targets.append(contentsOf: [
    // Counts malloc/calloc/realloc/posix_memalign/aligned_alloc calls process-wide.
    .target(
        name: "CMallocCounter",
        path: "benchmarks/CMallocCounter",
        cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])]
    ),
    // simdjson 3.x (Debian: libsimdjson-dev) behind a C header. -DNDEBUG matters: without it
    // on-demand keeps its asserts and runs about 2x slower on small inputs.
    .target(
        name: "CSimdjsonShim",
        path: "benchmarks/CSimdjsonShim",
        cxxSettings: [
            .define("NDEBUG"),
            .define("SIMDJSON_THREADS_ENABLED", to: "1"),  // as `pkg-config --cflags simdjson`
            .unsafeFlags(["-O2", "-Wall", "-Wextra", "-Werror"]),
        ],
        linkerSettings: [.linkedLibrary("simdjson")]
    ),
    // `swift run -c release core-path-bench`: the service thread's sans-IO work per envelope.
    .executableTarget(
        name: "CorePathBenchmark",
        dependencies: ["SockeyeCore", "CMallocCounter"],
        path: "benchmarks/CorePathBenchmark",
        swiftSettings: strictSwift
    ),
    .executableTarget(
        name: "ScannerBenchmark",
        dependencies: ["SockeyeCore", "CJansson", "CSimdjsonShim", "CMallocCounter"],
        path: "benchmarks/ScannerBenchmark",
        swiftSettings: strictSwift
    ),
])

// MARK: - sockeye-sim: Slack's side of Socket Mode (owned by the `sim` branch)
// Kept in its own block so merges with the core targets above stay trivial.
package.dependencies += [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
]
package.products += [
    .library(name: "SockeyeSim", targets: ["SockeyeSim"]),
    .executable(name: "sockeye-sim", targets: ["sockeye-sim"]),
]
package.targets += [
    // The service thread's timerfd in C (<sys/timerfd.h> does not import into Swift).
    .target(
        name: "CSockeyeSimTimer",
        cSettings: [.unsafeFlags(["-std=c11", "-Wall", "-Wextra", "-Werror"])]
    ),
    .target(
        name: "SockeyeSim",
        dependencies: [
            "SockeyeCore",
            "CLibWebSockets",
            "CSockeyeOpenSSL",
            "CSockeyeSimTimer",
            "SockeyeSlackSignature",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Yams", package: "Yams"),
        ],
        exclude: ["README.md"],
        swiftSettings: strictSwift
    ),
    .executableTarget(
        name: "sockeye-sim",
        dependencies: [
            "SockeyeSim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeSimTests",
        dependencies: ["SockeyeSim", "CSockeyeOpenSSL", "SockeyeSlackSignature"],
        exclude: ["Fixtures"],
        swiftSettings: strictSwift
    ),
]

// MARK: - The Swift API's example and benchmark client
package.products += [
    .executable(name: "sockeye-example", targets: ["sockeye-example"]),
    .executable(name: "sockeye-bench-client", targets: ["sockeye-bench-client"]),
]
package.targets += [
    // `swift run sockeye-example`: receives and acks events (from an embedded simulator when
    // SLACK_APP_TOKEN is not set).
    .executableTarget(
        name: "sockeye-example",
        dependencies: ["Sockeye", "SockeyeSim"],
        swiftSettings: strictSwift
    ),
    // The Sockeye contender of benchmarks/run (acks every event through the Swift API).
    .executableTarget(
        name: "sockeye-bench-client",
        dependencies: ["Sockeye", "CMallocCounter"],
        path: "benchmarks/bench-client",
        swiftSettings: strictSwift
    ),
]
package.targets += [
    // The transport and the Swift API against the simulator, a real proxy and real peers.
    .testTarget(
        name: "SockeyeTransportTests",
        dependencies: ["Sockeye", "SockeyeTransport", "SockeyeSim", "CSockeyeOpenSSL",
                       .product(name: "Logging", package: "swift-log"),
                       .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
        swiftSettings: strictSwift
    ),
]

// MARK: - sockeyed: the daemon (config, routes, sinks, operations)
package.dependencies += [
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
]
package.products += [
    .executable(name: "sockeyed", targets: ["sockeyed"]),
]
package.targets += [
    // Slack's v0 request signature, the one implementation: the ingress verifies, the
    // forwarder and the simulator sign.
    .target(
        name: "SockeyeSlackSignature",
        dependencies: ["CSockeyeOpenSSL"],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeSlackSignatureTests",
        dependencies: ["SockeyeSlackSignature"],
        swiftSettings: strictSwift
    ),
    // What a sink needs and nothing of the daemon: the event record and its line, the sink
    // protocol, routes, the app's state and small value helpers (sinks depend on this alone).
    .target(
        name: "SockeyeSinkKit",
        dependencies: ["SockeyeCore"],
        swiftSettings: strictSwift
    ),
    // Everything the daemon does, as a library the tests drive.
    .target(
        name: "SockeyeDaemon",
        dependencies: [
            "SockeyeSinkKit", "Sockeye", "SockeyeCore",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "SystemPackage", package: "swift-system"),
        ],
        swiftSettings: strictSwift
    ),
    // A small HTTP/1.1 server and keep-alive client on SwiftNIO, for the cheap request/response
    // exchanges of the ingress, the operations listener, the forwarder and its benchmark backend.
    .target(
        name: "SockeyeHTTP",
        dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "DequeModule", package: "swift-collections"),
            "SockeyeCore",
        ],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeHTTPTests",
        dependencies: ["SockeyeHTTP", "SockeyeCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                       .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl")],
        swiftSettings: strictSwift
    ),
    // The operations HTTP listener: /metrics, /healthz, /readyz, the status page and the ingress.
    .target(
        name: "SockeyeOperations",
        dependencies: [
            "SockeyeSinkKit", "SockeyeHTTP", "SockeyeSlackSignature", "SockeyeCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ],
        swiftSettings: strictSwift
    ),
    // `sockeyed demo`: the daemon against an embedded simulator. Only the executable (and
    // the tests) link it, so no library that ships carries the simulator.
    .target(
        name: "SockeyeDemo",
        dependencies: ["SockeyeDaemon", "SockeyeSinkKit", "SockeyeSim",
                       .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
        swiftSettings: strictSwift
    ),
    .executableTarget(
        name: "sockeyed",
        dependencies: ["SockeyeDaemon", "SockeyeDemo", "SockeyeOperations", "SockeyeSpool", "SockeyeBridge", "Sockeye", "SockeyeSinkKit",
                       .product(name: "ArgumentParser", package: "swift-argument-parser")],
        swiftSettings: strictSwift
    ),
    // The HTTP forwarder sink: Socket Mode events POSTed to an HTTP-mode app, signed (the bridge).
    .target(
        name: "SockeyeBridge",
        dependencies: ["SockeyeSinkKit", "SockeyeHTTP", "SockeyeCore", "SockeyeSlackSignature",
                       .product(name: "NIOPosix", package: "swift-nio"),
                       .product(name: "Metrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log")],
        swiftSettings: strictSwift
    ),
    // The keep-alive HTTP app the forwarder benchmark posts to (checks signatures, answers 200).
    .executableTarget(
        name: "sockeye-bench-backend",
        dependencies: ["SockeyeDaemon", "SockeyeSinkKit", "SockeyeHTTP", "SockeyeSlackSignature", .product(name: "NIOPosix", package: "swift-nio"),
                       .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl")],
        path: "benchmarks/HTTPBackend",
        swiftSettings: strictSwift
    ),
    // The durable SQLite spool sink (docs/spool.md) and what `sockeyed spool` reads it with.
    .target(
        name: "SockeyeSpool",
        dependencies: ["SockeyeSinkKit", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Metrics", package: "swift-metrics"),
                       .product(name: "GRDBSQLite", package: "GRDB.swift"),
                       .product(name: "Logging", package: "swift-log")],
        swiftSettings: strictSwift
    ),
    // `swift run -c release spool-bench`: durable events/s of the spool by batch size.
    .executableTarget(
        name: "spool-bench",
        dependencies: ["SockeyeSpool", "SockeyeDaemon", "SockeyeSinkKit", .product(name: "Logging", package: "swift-log")],
        path: "benchmarks/SpoolBenchmark",
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeDaemonTests",
        // Every module the tests import, declared: an undeclared one is not rebuilt against
        // (an incremental build kept the old layout of a changed core struct and crashed).
        dependencies: ["SockeyeDaemon", "SockeyeSinkKit", "SockeyeOperations", "SockeyeBridge", "SockeyeSim", "SockeyeDemo", "SockeyeSlackSignature", "SockeyeCore", "SockeyeTransport", "Sockeye",
                       .product(name: "Yams", package: "Yams"), .product(name: "Hummingbird", package: "hummingbird"),
                       .product(name: "HummingbirdTLS", package: "hummingbird"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                       .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                       .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeSpoolTests",
        dependencies: ["SockeyeSpool", "SockeyeDaemon", "SockeyeSinkKit", "SockeyeOperations", "SockeyeSim", .product(name: "GRDB", package: "GRDB.swift")],
        swiftSettings: strictSwift
    ),
]

// MARK: - The WebSocket conformance tests' echo client (docs/websocket-conformance.md)
package.targets += [
    // `sockeye-ws-echo ws://127.0.0.1:PORT/path`: echoes every message using SockeyeCore's
    // codec alone, then prints how the connection ended (Tests/interop/websocket_conformance.py).
    .executableTarget(
        name: "sockeye-ws-echo",
        dependencies: ["SockeyeCore"],
        swiftSettings: strictSwift
    ),
]
