import Prometheus
import SockeyeCore

/// `sockeyed_build_info{version,swift} 1`: which sockeyed is running, for dashboards and for
/// an alert that a fleet runs mixed versions. `version` is `SockeyeVersion.string`; `swift` the
/// major and minor version of the compiler that built it.
enum BuildInfo {
    /// The version of the Swift compiler this file was compiled with (`6.3`).
    static var swiftVersion: String {
        #if compiler(>=7.0)
        "7.0+"
        #elseif compiler(>=6.6)
        "6.6"
        #elseif compiler(>=6.5)
        "6.5"
        #elseif compiler(>=6.4)
        "6.4"
        #elseif compiler(>=6.3)
        "6.3"
        #else
        "6.2"
        #endif
    }

    /// Records the gauge in `registry` (once, at start).
    static func record(in registry: PrometheusCollectorRegistry) {
        let name = MetricNameDescriptor(namespace: "sockeyed", metricName: "build", unitName: "info",
                                        helpText: "The running sockeyed: its version and the Swift compiler that built it (always 1).")
        registry.makeGauge(descriptor: name, labels: [("version", SockeyeVersion.string), ("swift", swiftVersion)]).set(to: 1)
    }
}
