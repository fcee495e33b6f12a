// swift-tools-version: 6.2
//
// Sockeye: a Slack Socket Mode delivery engine.
//
// Targets by layer, each importing only from the layers above it (docs/architecture.md):
//   1. C system libraries and helpers   CLibWebSockets, CNats, CSockeye, CSockeyeSIMD, CSockeyeOpenSSL
//   2. the sans-IO core                 SockeyeCore
//   3. the transport                    SockeyeTransport
//   4. the front ends                   SockeyeABI (libsockeye.so), Sockeye (the Swift API)
//   5. the sink kit and its helpers     SockeyeSlackSignature, SockeyeHTTP, SockeyeSinkKit
//   6. the daemon's parts               SockeyeDaemon, SockeyeSpool, SockeyeBridge, SockeyeOperations,
//                                       SockeyeJetStream, SockeyeInstallations
//   7. executables                      sockeyed (with SockeyeDemo), sockeye-example, sockeye-ws-echo
//   8. the simulator                    SockeyeSim, sockeye-sim
//   9. benchmarks                       (simdjson and the malloc counter live only here)
//  10. tests
// CI builds with `--explicit-target-dependency-import-check error`: every module a target
// imports is declared below.
import PackageDescription

/// Flags for every target we own: warnings are bugs.
let strictSwift: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
]

/// Flags for our C helpers.
let strictC: [CSetting] = [
    .unsafeFlags(["-std=c11", "-Wall", "-Wextra", "-Werror"]),
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

/// A product of another package, by its package's name.
func external(_ product: String, _ package: String) -> Target.Dependency {
    .product(name: product, package: package)
}

let logging = external("Logging", "swift-log")
let metrics = external("Metrics", "swift-metrics")
let serviceLifecycle = external("ServiceLifecycle", "swift-service-lifecycle")
let nioCore = external("NIOCore", "swift-nio")
let nioPosix = external("NIOPosix", "swift-nio")
let nioHTTP1 = external("NIOHTTP1", "swift-nio")
let nioSSL = external("NIOSSL", "swift-nio-ssl")
let deque = external("DequeModule", "swift-collections")
let yams = external("Yams", "Yams")
let argumentParser = external("ArgumentParser", "swift-argument-parser")

let package = Package(
    name: "sockeye",
    products: [
        .library(name: "sockeye", type: .dynamic, targets: ["SockeyeABI"]),
        .library(name: "SockeyeCore", targets: ["SockeyeCore"]),
        .library(name: "Sockeye", targets: ["Sockeye"]),
        .executable(name: "sockeyed", targets: ["sockeyed"]),
        .executable(name: "sockeye-example", targets: ["sockeye-example"]),
        .library(name: "SockeyeSim", targets: ["SockeyeSim"]),
        .executable(name: "sockeye-sim", targets: ["sockeye-sim"]),
        .executable(name: "scanner-bench", targets: ["ScannerBenchmark"]),
        .executable(name: "core-path-bench", targets: ["CorePathBenchmark"]),
        .executable(name: "sockeye-bench-client", targets: ["sockeye-bench-client"]),
    ],
    dependencies: [
        // The Swift API and the daemon.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The simulator's latency histograms.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Tests only: a second, independent HTTP(S) server for the forwarder's tests.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: []
)

// MARK: - 1. C system libraries and helpers

package.targets += [
    // From Debian's -dev packages, found through pkg-config.
    .systemLibrary(
        name: "CLibWebSockets",
        pkgConfig: "libwebsockets",
        providers: [.apt(["libwebsockets-dev"])]
    ),
    // The NATS C client, seen only by SockeyeJetStream.
    .systemLibrary(name: "CNats", pkgConfig: "libnats", providers: [.apt(["libnats-dev"])]),
    // include/sockeye.h as a Swift module, so the ABI is written against its exact types.
    .systemLibrary(name: "CSockeye"),
    // 16-byte classification kernels (SSE2 / NEON) the scanner inlines; header-only.
    .target(name: "CSockeyeSIMD", cSettings: strictC),
    // The OpenSSL helpers in C, one file per job: TLS over memory BIOs for the transport
    // (lws 4.1's raw client cannot start TLS), HMAC-SHA256 for Slack's request signatures,
    // and for the simulator and tests a self-signed certificate and blocking TLS streams.
    .target(
        name: "CSockeyeOpenSSL",
        cSettings: strictC,
        linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
    ),
    // A service thread's timerfd, for the transport and the simulator (<sys/timerfd.h> does
    // not import into Swift).
    .target(name: "CSockeyeWakeTimer", cSettings: strictC),
    // The transport's libev loop on epoll, which lws runs on through its libev plugin
    // (Debian: libev-dev, libwebsockets-evlib-ev; libev ships no pkg-config file).
    .target(name: "CSockeyeEventLoop", cSettings: strictC, linkerSettings: [.linkedLibrary("ev")]),
]

// MARK: - 2. The sans-IO core

package.targets += [
    // The protocol core: no sockets, threads or clock of its own.
    .target(name: "SockeyeCore", dependencies: ["CSockeyeSIMD"], swiftSettings: strictSwift),
]

// MARK: - 3. The transport

package.targets += [
    // libwebsockets as a raw-socket event loop driving the core; TLS over OpenSSL memory BIOs.
    .target(
        name: "SockeyeTransport",
        dependencies: ["SockeyeCore", "CLibWebSockets", "CSockeyeOpenSSL", "CSockeyeWakeTimer", "CSockeyeEventLoop"],
        swiftSettings: strictSwift
    ),
]

// MARK: - 4. The front ends

package.targets += [
    // The C ABI: @_cdecl exports behind include/sockeye.h (libsockeye.so).
    .target(
        name: "SockeyeABI",
        dependencies: ["SockeyeCore", "SockeyeTransport", "CLibWebSockets", "CSockeye"],
        swiftSettings: strictSwift,
        linkerSettings: sharedLibraryLinkerFlags
    ),
    // The Swift API: SocketModeClient (a Service), events as an AsyncSequence. The daemon
    // uses only this, never the transport.
    .target(
        name: "Sockeye",
        dependencies: ["SockeyeTransport", "SockeyeCore", logging, serviceLifecycle],
        swiftSettings: strictSwift
    ),
]

// MARK: - 5. The sink kit and its helpers

package.targets += [
    // Slack's v0 request signature, the one implementation: the ingress verifies, the
    // forwarder and the simulator sign.
    .target(name: "SockeyeSlackSignature", dependencies: ["CSockeyeOpenSSL"], swiftSettings: strictSwift),
    // A small HTTP/1.1 server and keep-alive client (http and https) on SwiftNIO: the
    // ingress, the operations listener, the forwarder and its benchmark backend.
    .target(
        name: "SockeyeHTTP",
        dependencies: ["SockeyeCore", nioCore, nioPosix, nioHTTP1, nioSSL, deque, logging],
        swiftSettings: strictSwift
    ),
    // What a sink needs and nothing of the daemon: the event record and its line, the sink
    // protocol, routes, the app's state, what the listeners read of the daemon
    // (OperationsHost) and small value helpers.
    .target(name: "SockeyeSinkKit", dependencies: ["SockeyeCore"], swiftSettings: strictSwift),
]

// MARK: - 6. The daemon's parts

package.targets += [
    // The daemon: configuration, apps, the batch planner and its runner, the file and
    // command sinks, reloads. Of the Socket Mode layers it imports only the Swift API.
    .target(
        name: "SockeyeDaemon",
        dependencies: [
            "SockeyeSinkKit", "Sockeye", "SockeyeInstallations",
            yams, logging, serviceLifecycle, metrics,
            external("UnixSignals", "swift-service-lifecycle"),
            external("Subprocess", "swift-subprocess"),
            external("SystemPackage", "swift-system"),
        ],
        swiftSettings: strictSwift
    ),
    // The durable SQLite spool sink (docs/spool.md) and what `sockeyed spool` reads it with.
    .target(
        name: "SockeyeSpool",
        dependencies: ["SockeyeSinkKit", external("GRDB", "GRDB.swift"), external("GRDBSQLite", "GRDB.swift"),
                       metrics, logging],
        swiftSettings: strictSwift
    ),
    // The HTTP forwarder sink: Socket Mode events POSTed to an HTTP-mode app, signed (the bridge).
    .target(
        name: "SockeyeBridge",
        dependencies: ["SockeyeSinkKit", "SockeyeHTTP", "SockeyeCore", "SockeyeSlackSignature",
                       nioPosix, metrics, logging],
        swiftSettings: strictSwift
    ),
    // OAuth installs (docs/oauth.md): the installation store (SQLite, the layout slack_sdk's
    // SQLite3InstallationStore reads), the install flow's states and pages, per-event
    // authorization and token rotation's decisions.
    .target(
        name: "SockeyeInstallations",
        dependencies: ["SockeyeSinkKit", "SockeyeSlackSignature", external("GRDB", "GRDB.swift"), external("GRDBSQLite", "GRDB.swift"),
                       logging],
        swiftSettings: strictSwift
    ),
    // The jetstream sink: events published to a NATS JetStream stream (docs/cluster.md).
    .target(
        name: "SockeyeJetStream",
        dependencies: ["SockeyeSinkKit", "SockeyeCore", "CNats", "SockeyeInstallations", "CSockeyeOpenSSL", metrics, logging],
        swiftSettings: strictSwift
    ),
    // The listeners: /metrics, /healthz, /readyz, the status page and the Events API ingress.
    .target(
        name: "SockeyeOperations",
        dependencies: [
            "SockeyeSinkKit", "SockeyeHTTP", "SockeyeSlackSignature", "SockeyeCore",
            logging, metrics, nioCore, nioPosix, nioHTTP1, serviceLifecycle,
            external("Prometheus", "swift-prometheus"),
        ],
        swiftSettings: strictSwift
    ),
]

// MARK: - 7. Executables

package.targets += [
    // `sockeyed demo`: the daemon against an embedded simulator. Only the executable (and
    // the tests) link it, so no library that ships carries the simulator.
    .target(
        name: "SockeyeDemo",
        dependencies: ["SockeyeDaemon", "SockeyeSinkKit", "SockeyeSim", serviceLifecycle],
        swiftSettings: strictSwift
    ),
    .executableTarget(
        name: "sockeyed",
        dependencies: ["SockeyeDaemon", "SockeyeDemo", "SockeyeOperations", "SockeyeSpool", "SockeyeBridge",
                       "SockeyeJetStream", "SockeyeInstallations", "Sockeye", "SockeyeSinkKit", argumentParser, logging],
        swiftSettings: strictSwift
    ),
    // `swift run sockeye-example`: receives and acks events (from an embedded simulator when
    // SLACK_APP_TOKEN is not set).
    .executableTarget(
        name: "sockeye-example",
        dependencies: ["Sockeye", "SockeyeSim"],
        swiftSettings: strictSwift
    ),
    // `sockeye-ws-echo ws://127.0.0.1:PORT/path`: echoes every message using SockeyeCore's
    // codec alone, then prints how the connection ended (Tests/interop/websocket_conformance.py).
    .executableTarget(name: "sockeye-ws-echo", dependencies: ["SockeyeCore"], swiftSettings: strictSwift),
]

// MARK: - 8. The simulator: Slack's side of Socket Mode

package.targets += [
    .target(
        name: "SockeyeSim",
        dependencies: [
            "SockeyeCore", "CLibWebSockets", "CSockeyeOpenSSL", "CSockeyeWakeTimer", "SockeyeSlackSignature",
            external("Histogram", "hdrhistogram-swift"), deque, yams,
        ],
        exclude: ["README.md"],
        swiftSettings: strictSwift
    ),
    .executableTarget(name: "sockeye-sim", dependencies: ["SockeyeSim", argumentParser], swiftSettings: strictSwift),
]

// MARK: - 9. Benchmarks (benchmarks/; see benchmarks/README.md). Nothing here ships.

package.targets += [
    // jansson (Debian: libjansson-dev): the scanner benchmark's and the differential
    // test's reference parser.
    .systemLibrary(
        name: "CJansson",
        pkgConfig: "jansson",
        providers: [.apt(["libjansson-dev"])]
    ),
    // Counts malloc/calloc/realloc/posix_memalign/aligned_alloc calls process-wide: only
    // ever linked into a benchmark executable.
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
    // `swift run -c release scanner-bench [--smoke]`: the envelope scanner against jansson,
    // simdjson (on-demand and DOM) and Foundation's JSONSerialization.
    .executableTarget(
        name: "ScannerBenchmark",
        dependencies: ["SockeyeCore", "CJansson", "CSimdjsonShim", "CMallocCounter"],
        path: "benchmarks/ScannerBenchmark",
        swiftSettings: strictSwift
    ),
    // `swift run -c release core-path-bench`: the service thread's sans-IO work per envelope.
    .executableTarget(
        name: "CorePathBenchmark",
        dependencies: ["SockeyeCore", "CMallocCounter", "SockeyeSinkKit", "SockeyeInstallations"],
        path: "benchmarks/CorePathBenchmark",
        swiftSettings: strictSwift
    ),
    // The Sockeye contender of benchmarks/run (acks every event through the Swift API).
    .executableTarget(
        name: "sockeye-bench-client",
        dependencies: ["Sockeye", "CMallocCounter"],
        path: "benchmarks/bench-client",
        swiftSettings: strictSwift
    ),
    // The keep-alive HTTP(S) app the forwarder benchmark posts to (checks signatures, answers 200).
    .executableTarget(
        name: "sockeye-bench-backend",
        dependencies: ["SockeyeDaemon", "SockeyeSinkKit", "SockeyeHTTP", "SockeyeSlackSignature",
                       nioPosix, nioCore, nioSSL],
        path: "benchmarks/HTTPBackend",
        swiftSettings: strictSwift
    ),
    // `swift run -c release spool-bench`: durable events/s of the spool by batch size.
    .executableTarget(
        name: "spool-bench",
        dependencies: ["SockeyeSpool", "SockeyeDaemon", "SockeyeSinkKit", logging],
        path: "benchmarks/SpoolBenchmark",
        swiftSettings: strictSwift
    ),
]

// MARK: - 10. Tests (Tests/<Target>Tests). Every module a test imports is declared: an
// undeclared one is not rebuilt against (an incremental build once kept the old layout of a
// changed core struct and crashed).

package.targets += [
    .testTarget(name: "SockeyeCoreTests", dependencies: ["SockeyeCore", "CJansson"], swiftSettings: strictSwift),
    // The transport and the Swift API against the simulator, a real proxy and real peers.
    .testTarget(
        name: "SockeyeTransportTests",
        dependencies: ["Sockeye", "SockeyeTransport", "SockeyeCore", "SockeyeSim", "CSockeyeOpenSSL",
                       logging, serviceLifecycle],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeSlackSignatureTests",
        dependencies: ["SockeyeSlackSignature"],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeHTTPTests",
        dependencies: ["SockeyeHTTP", "SockeyeCore", nioCore, nioPosix, nioHTTP1, nioSSL],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeSimTests",
        dependencies: ["SockeyeSim", "CSockeyeOpenSSL", "SockeyeSlackSignature"],
        exclude: ["Fixtures"],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeDaemonTests",
        dependencies: ["SockeyeDaemon", "SockeyeSinkKit", "SockeyeOperations", "SockeyeBridge", "SockeyeSim",
                       "SockeyeDemo", "SockeyeSlackSignature", "SockeyeCore", "Sockeye", "SockeyeInstallations",
                       yams, logging, nioCore, nioSSL, serviceLifecycle,
                       external("Hummingbird", "hummingbird"), external("HummingbirdTLS", "hummingbird"),
                       external("HTTPTypes", "swift-http-types")],
        swiftSettings: strictSwift
    ),
    // The jetstream sink against real nats-server processes.
    .testTarget(
        name: "SockeyeJetStreamTests",
        dependencies: ["SockeyeJetStream", "SockeyeSinkKit", "SockeyeInstallations", "CSockeyeOpenSSL", logging],
        swiftSettings: strictSwift
    ),
    // The installation store and the install flow's decisions, on real SQLite files.
    .testTarget(
        name: "SockeyeInstallationsTests",
        dependencies: ["SockeyeInstallations", "SockeyeSinkKit", external("GRDB", "GRDB.swift")],
        swiftSettings: strictSwift
    ),
    .testTarget(
        name: "SockeyeSpoolTests",
        dependencies: ["SockeyeSpool", "SockeyeDaemon", "SockeyeSinkKit", "SockeyeOperations", "SockeyeSim",
                       external("GRDB", "GRDB.swift"), logging],
        swiftSettings: strictSwift
    ),
]
