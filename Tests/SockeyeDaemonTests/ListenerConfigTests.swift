import SockeyeDaemon
import SockeyeSinkKit
import Testing

/// The `operations:` and `public:` sections: addresses, limits with their defaults and
/// ranges, allowed hosts, and the public listener an HTTP app needs.
@Suite("sockeyed configuration: listeners")
struct ListenerConfigTests {
    static let environment = ["SLACK_APP_TOKEN": "xapp-1-A1-1-secret", "SIGNING": "8f742231b10e8888abcd99yyyzzz85a5"]
    static let socketApp = "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n"
    static let httpApp = "apps:\n  - name: h\n    delivery: http\n    signing_secret: ${SIGNING}\n"

    func parse(_ text: String) throws(ConfigError) -> DaemonConfiguration {
        try parseConfig(text, environment: Self.environment)
    }

    func error(_ text: String) -> ConfigError? {
        configError(text, environment: Self.environment)
    }

    @Test("without the sections: the operations listener on loopback with its defaults, no public listener")
    func defaults() throws {
        let config = try parse(Self.socketApp)
        #expect(config.operationsAddress == "127.0.0.1:9464")
        #expect(config.listeners == ListenerSettings())
        #expect(config.listeners.publicAddress == nil)
        #expect(config.listeners.operations.maxConnections == 64 && config.listeners.publicLimits.maxConnections == 1024)
    }

    @Test("every limit key of both sections is read")
    func keys() throws {
        let config = try parse(Self.httpApp + """
            operations:
              listen: 127.0.0.1:9000
              allowed_hosts: [Sockeyed.Internal, metrics.example]
              max_connections: 8
              head_timeout: 2s
              body_timeout: 500ms
              min_body_rate: 4KiB
              max_requests_per_connection: 10
              idle_timeout: 5s
            public:
              listen: 0.0.0.0:3000
              max_connections: 5000
              head_timeout: 3s
              body_timeout: 4s
              min_body_rate: 1MiB
              max_requests_per_connection: 100
              idle_timeout: 90s
            """)
        #expect(config.operationsAddress == "127.0.0.1:9000")
        #expect(config.listeners.allowedHosts == ["sockeyed.internal", "metrics.example"])
        #expect(config.listeners.operations == ListenerLimits(maxConnections: 8, headTimeoutSeconds: 2, bodyTimeoutSeconds: 0.5,
                                                               minBodyBytesPerSecond: 4096, maxRequestsPerConnection: 10, idleTimeoutSeconds: 5))
        #expect(config.listeners.publicAddress == "0.0.0.0:3000")
        #expect(config.listeners.publicLimits == ListenerLimits(maxConnections: 5000, headTimeoutSeconds: 3, bodyTimeoutSeconds: 4,
                                                                minBodyBytesPerSecond: 1 << 20, maxRequestsPerConnection: 100, idleTimeoutSeconds: 90))
    }

    @Test("an HTTP app without a public listener is an error naming the fix; with one it is fine")
    func httpAppNeedsPublicListener() throws {
        let found = error(Self.httpApp)
        #expect(found?.key == "apps[0].delivery" && found?.message.contains("public:") == true, "\(String(describing: found))")
        let off = error(Self.httpApp + "public:\n  listen: \"off\"\n")
        #expect(off?.key == "apps[0].delivery")
        let config = try parse(Self.httpApp + "operations:\n  listen: \"off\"\npublic:\n  listen: 127.0.0.1:0\n")
        #expect(config.operationsAddress == nil && config.listeners.publicAddress == "127.0.0.1:0")
    }

    @Test("values out of range, bad addresses, bad host names and unknown keys are refused with their key",
          arguments: [
              ("operations:\n  max_connections: 0\n", "operations.max_connections"),
              ("operations:\n  max_connections: 100001\n", "operations.max_connections"),
              ("public:\n  listen: 127.0.0.1:1\n  max_connections: lots\n", "public.max_connections"),
              ("operations:\n  head_timeout: 0.01s\n", "operations.head_timeout"),
              ("operations:\n  head_timeout: 11m\n", "operations.head_timeout"),
              ("public:\n  listen: 127.0.0.1:1\n  body_timeout: 1e300s\n", "public.body_timeout"),
              ("public:\n  listen: 127.0.0.1:1\n  idle_timeout: 2h\n", "public.idle_timeout"),
              ("operations:\n  min_body_rate: 2GiB\n", "operations.min_body_rate"),
              ("operations:\n  min_body_rate: 0\n", "operations.min_body_rate"),
              ("operations:\n  max_requests_per_connection: 0\n", "operations.max_requests_per_connection"),
              ("operations:\n  listen: nowhere\n", "operations.listen"),
              ("public:\n  listen: 0.0.0.0:70000\n", "public.listen"),
              ("public:\n  max_connections: 10\n", "public.listen"),
              ("public:\n  listen: 127.0.0.1:1\n  allowed_hosts: [x]\n", "public.allowed_hosts"),
              ("operations:\n  allowed_hosts: [\"http://x/\"]\n", "operations.allowed_hosts[0]"),
              ("operations:\n  allowed_hosts: [localhost, \"sockeyed.internal:9000\"]\n", "operations.allowed_hosts[1]"),
              ("operations:\n  allowed_hosts: [\"::1\"]\n", "operations.allowed_hosts[0]"),
              ("operations:\n  max_conections: 5\n", "operations.max_conections"),
          ])
    func refused(_ section: String, _ key: String) {
        let found = error(Self.socketApp + section)
        #expect(found?.key == key, "\(section): \(String(describing: found))")
    }
}
