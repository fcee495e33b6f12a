import Foundation
import Sockeye
import SockeyeSinkKit
import Yams

/// Reads the daemon's configuration from YAML text and the environment.
///
/// Every scalar may use `${NAME}` (or `${NAME:-default}`) to take a value from the
/// environment, so tokens stay out of the file. Unknown keys are errors (a typo must not
/// silently drop a route), and every error names the file position and the key.
/// Without a file, `environment(_:)` builds a one-app configuration from `SLACK_APP_TOKEN`
/// (and `SLACK_BOT_TOKEN`, `SOCKEYE_API_URL`, `SOCKEYE_POOL_SIZE`,
/// `SOCKEYE_OPERATIONS_LISTEN`) that writes every event to standard output.
public enum ConfigLoader {
    /// Parses `text` (the contents of `source`, for messages).
    public static func parse(_ text: String, source: String, environment: [String: String]) throws(ConfigError) -> DaemonConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlError(error, source: source)
        } catch {
            throw ConfigError(source: source, key: "", message: "not YAML: \(error)")
        }
        guard let root else { throw ConfigError(source: source, key: "", message: "the file is empty: it needs an `apps:` list") }
        let reader = NodeReader(source: source, environment: environment)
        return try reader.configuration(root)
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String, environment: [String: String]) throws(ConfigError) -> DaemonConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(source: path, key: "", message: "cannot read the file (does it exist, and may this user read it?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(source: path, key: "", message: "the file is not UTF-8 text")
        }
        return try parse(text, source: path, environment: environment)
    }

    /// The configuration the environment alone describes, or `nil` when `SLACK_APP_TOKEN`
    /// is not set.
    public static func environment(_ environment: [String: String]) throws(ConfigError) -> DaemonConfiguration? {
        guard let token = environment["SLACK_APP_TOKEN"], !token.isEmpty else { return nil }
        var app = AppSettings(name: "default", appToken: token)
        if let bot = environment["SLACK_BOT_TOKEN"], !bot.isEmpty {
            guard bot.hasPrefix("xoxb-") else {
                throw ConfigError(source: "environment", key: "SLACK_BOT_TOKEN", message: "expected a bot token (xoxb-…)")
            }
            app.botToken = bot
            app.ignoreOwnMessages = true
        }
        if let url = environment["SOCKEYE_API_URL"], !url.isEmpty {
            guard (try? EndpointURL(url))?.scheme.isHTTP == true else {
                throw ConfigError(source: "environment", key: "SOCKEYE_API_URL", message: "not an http:// or https:// URL")
            }
            app.apiURL = url
        }
        if let size = environment["SOCKEYE_POOL_SIZE"], !size.isEmpty {
            guard let value = Int(size), (1...10).contains(value) else {
                throw ConfigError(source: "environment", key: "SOCKEYE_POOL_SIZE", message: "expected an integer from 1 to 10, got \(quoted(size))")
            }
            app.poolSize = value
        }
        try NodeReader.checkToken(app.appToken, source: "environment", key: "SLACK_APP_TOKEN", mark: nil)
        let listen = environment["SOCKEYE_OPERATIONS_LISTEN"].map { $0 == "off" ? nil : $0 } ?? "127.0.0.1:9464"
        return DaemonConfiguration(apps: [app], sinks: ["stdout": .stdout], operationsAddress: listen)
    }

    /// The longest value an error message repeats: the mistakes worth showing (`lots`,
    /// `soon`, `1e300s`) are short, while tokens and secrets are long.
    static let maxQuotedLength = 24

    /// `text` in quotes for an error message, or a description of it when it may be a secret
    /// (it looks like a Slack token, or is longer than `maxQuotedLength`). References
    /// (`${NAME}`) are shown as written.
    static func quoted(_ text: String) -> String {
        let kind = AppTokenKind(text)
        if kind != .unknown && kind != .empty {
            return "a Slack token (not repeated here)"
        }
        let isReference = text.hasPrefix("${") && text.hasSuffix("}")
            && text.dropFirst(2).dropLast().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        if text.count > maxQuotedLength, !isReference {
            return "a value of \(text.count) characters (not repeated here: it may be a secret)"
        }
        return "\"\(text)\""
    }

    static func yamlError(_ error: YamlError, source: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigError(source: source, line: mark.line, column: mark.column, key: "", message: "YAML: \(problem)")
        default:
            return ConfigError(source: source, key: "", message: "YAML: \(error)")
        }
    }
}

/// Walks the YAML nodes, checking each key and value as it goes.
struct NodeReader {
    let source: String
    let environment: [String: String]

    func fail(_ node: Node?, _ key: String, _ message: String) -> ConfigError {
        ConfigError(source: source, line: node?.mark?.line, column: node?.mark?.column, key: key, message: message)
    }

    /// The members of a mapping node, checked against `allowed` keys.
    func members(_ node: Node, _ key: String, allowed: [String]) throws(ConfigError) -> [(String, Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, key, "expected a mapping (key: value lines)") }
        var seen = Set<String>()
        var out: [(String, Node)] = []
        for (name, value) in mapping {
            guard let text = name.string else { throw fail(name, key, "keys must be text") }
            let path = key.isEmpty ? text : "\(key).\(text)"
            guard allowed.contains(text) else {
                throw fail(name, path, "unknown key; expected one of: \(allowed.joined(separator: ", "))")
            }
            guard seen.insert(text).inserted else { throw fail(name, path, "given twice") }
            out.append((text, value))
        }
        return out
    }

    /// A scalar's text with `${NAME}` and `${NAME:-default}` replaced from the environment.
    func string(_ node: Node, _ key: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, key, "expected a text value") }
        return try substitute(scalar.string, node, key)
    }

    func substitute(_ text: String, _ node: Node, _ key: String) throws(ConfigError) -> String {
        guard text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw fail(node, key, "`${` without a closing `}`")
            }
            let reference = rest[open.upperBound..<close]
            let parts = reference.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw fail(node, key, "`${\(reference)}` is not an environment variable reference")
            }
            if let value = environment[name], !value.isEmpty {
                out += value
            } else if parts.count == 2 {
                out += parts[1]
            } else {
                throw fail(node, key, "environment variable \(name) is not set")
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    func int(_ node: Node, _ key: String, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string(node, key)
        guard let value = Int(text), range.contains(value) else {
            throw fail(node, key, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(written(node))")
        }
        return value
    }

    /// The value as the file writes it, for an error message: `${NAME}` references stay
    /// references (their values may be secrets), a literal that looks like a Slack token is
    /// not repeated, and a long value is cut.
    func written(_ node: Node) -> String {
        guard case .scalar(let scalar) = node else { return "a non-text value" }
        return ConfigLoader.quoted(scalar.string)
    }

    /// Durations between a millisecond and thirty days, unless a setting says otherwise.
    static let defaultDurationRange: ClosedRange<Double> = 0.001...(30 * 86_400)
    /// Sizes between a byte and a tebibyte, unless a setting says otherwise.
    static let defaultSizeRange: ClosedRange<Int64> = 1...(1 << 40)

    /// A duration: a number with a unit, `ms`, `s`, `m`, `h` or `d` (e.g. `90s`, `7d`), in
    /// `range` (seconds).
    func duration(_ node: Node, _ key: String, range: ClosedRange<Double> = NodeReader.defaultDurationRange) throws(ConfigError) -> Double {
        let text = try string(node, key)
        guard let seconds = ConfigQuantity.seconds(text, in: range) else {
            throw fail(node, key, "expected a duration from \(ConfigQuantity.describe(seconds: range)) written as a number and ms, s, m, h "
                           + "or d (such as 500ms, 90s, 30m, 12h or 7d), got \(written(node))")
        }
        return seconds
    }

    /// A size: a number with a unit, `KiB`, `MiB`, `GiB`, `TiB` (or `KB`, `MB`, `GB`, `TB`,
    /// `B`), or bytes, in `range`.
    func byteCount(_ node: Node, _ key: String, range: ClosedRange<Int64> = NodeReader.defaultSizeRange) throws(ConfigError) -> Int64 {
        let text = try string(node, key)
        guard let bytes = ConfigQuantity.bytes(text, in: range) else {
            throw fail(node, key, "expected a size from \(ConfigQuantity.describe(bytes: range)) written as a number and KiB, MiB, GiB "
                           + "(or KB, MB, GB), or as bytes, got \(written(node))")
        }
        return bytes
    }

    func bool(_ node: Node, _ key: String) throws(ConfigError) -> Bool {
        switch try string(node, key).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(node, key, "expected true or false, got \(written(node))")
        }
    }

    /// One text or a list of texts.
    func strings(_ node: Node, _ key: String) throws(ConfigError) -> [String] {
        if case .sequence(let sequence) = node {
            var out: [String] = []
            for (index, item) in sequence.enumerated() { out.append(try string(item, "\(key)[\(index)]")) }
            guard !out.isEmpty else { throw fail(node, key, "the list is empty") }
            return out
        }
        return [try string(node, key)]
    }

    static func checkToken(_ token: String, source: String, key: String, mark: Mark?) throws(ConfigError) {
        let kind = AppTokenKind(token)
        if let problem = kind.socketModeProblem {
            throw ConfigError(source: source, line: mark?.line, column: mark?.column, key: key, message: problem)
        }
    }

    // MARK: The document

    func configuration(_ root: Node) throws(ConfigError) -> DaemonConfiguration {
        var apps: [AppSettings] = []
        var appNodes: [Node] = []
        var sinks: [String: SinkSettings] = ["stdout": .stdout]
        var listen: String? = "127.0.0.1:9464"
        var listeners = ListenerSettings()
        var sawApps = false
        var cluster: ClusterSettings?
        var sinkNodes: [String: Node] = [:]
        var workers: [WorkerSettings] = []
        var workerNodes: [Node] = []
        for (name, value) in try members(root, "", allowed: ["apps", "sinks", "operations", "public", "cluster", "workers"]) {
            switch name {
            case "apps":
                sawApps = true
                guard case .sequence(let list) = value, !list.isEmpty else {
                    throw fail(value, "apps", "expected a list of apps (each starting with `- name: …`)")
                }
                for (index, item) in list.enumerated() {
                    apps.append(try app(item, "apps[\(index)]"))
                    appNodes.append(item)
                }
            case "sinks":
                for (sinkName, settings) in try anyMembers(value, "sinks") {
                    sinks[sinkName] = try sink(settings, "sinks.\(sinkName)")
                    sinkNodes[sinkName] = settings
                }
            case "cluster":
                cluster = try clusterSection(value)
            case "workers":
                guard case .sequence(let list) = value else {
                    throw fail(value, "workers", "expected a list of workers (each starting with `- name: …`)")
                }
                for (index, item) in list.enumerated() {
                    workers.append(try worker(item, "workers[\(index)]"))
                    workerNodes.append(item)
                }
            case "public":
                try publicSection(value, listeners: &listeners)
            default:
                try operationsSection(value, listen: &listen, listeners: &listeners)
            }
        }
        guard sawApps || !workers.isEmpty else { throw fail(root, "apps", "missing: the file needs an `apps:` list (or `workers:`)") }
        var workerNames = Set<String>()
        for (index, worker) in workers.enumerated() {
            guard cluster != nil else {
                throw fail(workerNodes[index], "workers[\(index)]", "a worker reads the NATS servers of the top-level `cluster:` block: add `cluster: {nats: [nats://127.0.0.1:4222]}`")
            }
            guard workerNames.insert(worker.name).inserted else {
                throw fail(workerNodes[index], "workers[\(index)].name", "\"\(worker.name)\" is used by another worker")
            }
            try checkSinks(of: worker.routes, in: workerNodes[index], "workers[\(index)]", defined: sinks)
        }
        for (sinkName, settings) in sinks.sorted(by: { $0.key < $1.key }) where cluster == nil {
            if case .jetstream = settings {
                throw fail(sinkNodes[sinkName] ?? root, "sinks.\(sinkName)",
                           "a jetstream sink publishes to the NATS servers of the top-level `cluster:` block: add `cluster: {nats: [nats://127.0.0.1:4222]}`")
            }
        }
        var names = Set<String>()
        for (index, app) in apps.enumerated() {
            guard names.insert(app.name).inserted else {
                throw fail(appNodes[index], "apps[\(index)].name", "\"\(app.name)\" is used by another app")
            }
            try checkSinks(of: app.routes, in: appNodes[index], "apps[\(index)]", defined: sinks)
        }
        var ingressOwners: [String: String] = [:]
        try checkOAuthPaths(apps, appNodes: appNodes, listeners: listeners)
        for (index, app) in apps.enumerated() where app.delivery.usesHTTP && app.enabled {
            // The ingress is only on the public listener: the operations listener stays for
            // local clients, with its Host check and tighter limits.
            guard listeners.publicAddress != nil else {
                throw fail(appNodes[index], "apps[\(index)].delivery",
                           "delivery \(app.delivery.rawValue) takes Slack's requests on the public listener: add `public: {listen: 0.0.0.0:3000}`")
            }
            for path in Set(app.ingress.paths) {
                if let owner = ingressOwners[path], owner != app.name {
                    throw fail(appNodes[index], "apps[\(index)].ingress",
                               "the path \(path) is taken by app \"\(owner)\": give each HTTP app its own (ingress: {events: /slack/\(app.name)/events, …})")
                }
                ingressOwners[path] = app.name
            }
        }
        var configuration = DaemonConfiguration(apps: apps, sinks: sinks, operationsAddress: listen)
        configuration.listeners = listeners
        configuration.cluster = cluster
        configuration.workers = workers
        return configuration
    }

    /// Fails on the first sink `routes` (of the app or worker at `key`) name that is not defined.
    func checkSinks(of routes: [Route], in node: Node, _ key: String, defined sinks: [String: SinkSettings]) throws(ConfigError) {
        for (routeIndex, route) in routes.enumerated() {
            for sink in route.sinks where sinks[sink] == nil {
                throw fail(node, "\(key).routes[\(routeIndex)].sinks",
                           "no sink named \(ConfigLoader.quoted(sink)) (defined: \(sinks.keys.sorted().joined(separator: ", ")))")
            }
        }
    }

    /// The members of a mapping whose keys are names chosen by the user.
    func anyMembers(_ node: Node, _ key: String) throws(ConfigError) -> [(String, Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, key, "expected a mapping of names to settings") }
        var out: [(String, Node)] = []
        for (name, value) in mapping {
            guard let text = name.string, !text.isEmpty else { throw fail(name, key, "names must be text") }
            out.append((text, value))
        }
        return out
    }

    func app(_ node: Node, _ key: String) throws(ConfigError) -> AppSettings {
        var settings = AppSettings(name: "", appToken: "")
        var tokenNode: Node?
        var ownMessages: (Bool, Node)?
        let allowed = ["name", "app_token", "bot_token", "ignore_own_messages", "api_url", "pool_size", "max_pool_size", "ack",
                       "routes", "enabled", "delivery", "signing_secret", "ingress", "oauth"]
        var deliveryNode: Node?
        for (name, value) in try members(node, key, allowed: allowed) {
            let path = "\(key).\(name)"
            switch name {
            case "name":
                settings.name = try string(value, path)
                guard !settings.name.isEmpty, settings.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw fail(value, path, "use letters, digits, '-', '_' or '.'")
                }
            case "app_token":
                settings.appToken = try string(value, path)
                tokenNode = value
            case "bot_token":
                let token = try string(value, path)
                if token.isEmpty { break }  // e.g. ${SLACK_BOT_TOKEN:-} with the variable unset
                guard token.hasPrefix("xoxb-") else { throw fail(value, path, "expected a bot token (xoxb-…)") }
                settings.botToken = token
            case "ignore_own_messages":
                ownMessages = (try bool(value, path), value)
            case "api_url":
                settings.apiURL = try string(value, path)
                guard (try? EndpointURL(settings.apiURL))?.scheme.isHTTP == true else { throw fail(value, path, "not an http:// or https:// URL") }
            case "pool_size":
                settings.poolSize = try int(value, path, range: 1...10)
            case "max_pool_size":
                settings.maxPoolSize = try int(value, path, range: 1...10)
            case "ack":
                let text = try string(value, path)
                guard let policy = AppSettings.AckPolicy(rawValue: text) else {
                    throw fail(value, path, "expected after_sinks or on_receipt, got \(written(value))")
                }
                settings.ack = policy
            case "enabled":
                settings.enabled = try bool(value, path)
            case "delivery":
                let text = try string(value, path)
                guard let mode = AppSettings.DeliveryMode(rawValue: text) else {
                    throw fail(value, path, "expected socket, http or both, got \(written(value))")
                }
                settings.delivery = mode
                deliveryNode = value
            case "signing_secret":
                let secret = try string(value, path)
                guard !secret.isEmpty else { throw fail(value, path, "empty: the signing secret from the app's Basic Information page") }
                settings.signingSecret = secret
            case "ingress":
                settings.ingress = try ingress(value, path)
            case "oauth":
                settings.oauth = try oauth(value, path)
            default:
                guard case .sequence(let list) = value, !list.isEmpty else {
                    throw fail(value, path, "expected a list of routes (each with `sinks:` and an optional `match:`)")
                }
                var routes: [Route] = []
                for (index, item) in list.enumerated() { routes.append(try route(item, "\(path)[\(index)]")) }
                settings.routes = routes
            }
        }
        guard !settings.name.isEmpty else { throw fail(node, "\(key).name", "missing: every app needs a name") }
        if settings.delivery.usesSocket {
            guard let tokenNode else {
                throw fail(node, "\(key).app_token", "missing: the app-level token (xapp-…), e.g. ${SLACK_APP_TOKEN}")
            }
            try Self.checkToken(settings.appToken, source: source, key: "\(key).app_token", mark: tokenNode.mark)
        } else if let tokenNode, !settings.appToken.isEmpty {
            try Self.checkToken(settings.appToken, source: source, key: "\(key).app_token", mark: tokenNode.mark)
        }
        if settings.delivery.usesHTTP, settings.signingSecret == nil {
            throw fail(deliveryNode ?? node, "\(key).signing_secret",
                       "missing: delivery \(settings.delivery.rawValue) needs the app's signing secret, e.g. ${SLACK_SIGNING_SECRET}")
        }
        if let maximum = settings.maxPoolSize, maximum < settings.poolSize {
            throw fail(node, "\(key).max_pool_size", "must be at least pool_size (\(settings.poolSize))")
        }
        // An app installed by OAuth knows each installation's bot from the install itself.
        if let (wanted, value) = ownMessages {
            if wanted && settings.botToken == nil && settings.oauth == nil {
                throw fail(value, "\(key).ignore_own_messages", "needs bot_token: the bot's identity comes from auth.test")
            }
            settings.ignoreOwnMessages = wanted
        } else {
            settings.ignoreOwnMessages = settings.botToken != nil || settings.oauth != nil
        }
        return settings
    }

    func ingress(_ node: Node, _ key: String) throws(ConfigError) -> IngressSettings {
        var settings = IngressSettings()
        for (name, value) in try members(node, key, allowed: ["events", "commands", "actions", "max_body"]) {
            let path = "\(key).\(name)"
            if name == "max_body" {
                settings.maxBodyBytes = try Int(byteCount(value, path, range: 1...(64 << 20)))
                continue
            }
            let text = try string(value, path)
            guard text.hasPrefix("/"), !text.contains(" "), !text.contains("?") else {
                throw fail(value, path, "expected a path such as /slack/events (no host, no query)")
            }
            switch name {
            case "events": settings.eventsPath = text
            case "commands": settings.commandsPath = text
            default: settings.actionsPath = text
            }
        }
        return settings
    }

    func route(_ node: Node, _ key: String) throws(ConfigError) -> Route {
        var route = Route(sinks: [])
        for (name, value) in try members(node, key, allowed: ["match", "sinks"]) {
            let path = "\(key).\(name)"
            if name == "sinks" {
                route.sinks = try strings(value, path)
                continue
            }
            for (field, setting) in try members(value, path, allowed: ["envelope_type", "event_type", "team", "channel"]) {
                let values = Set(try strings(setting, "\(path).\(field)"))
                switch field {
                case "envelope_type":
                    for type in values where !["events_api", "slash_commands", "interactive"].contains(type) {
                        throw fail(setting, "\(path).\(field)", "\(ConfigLoader.quoted(type)) is not an envelope type (events_api, slash_commands, interactive)")
                    }
                    route.match.envelopeTypes = values
                case "event_type": route.match.eventTypes = values
                case "team": route.match.teams = values
                default: route.match.channels = values
                }
            }
        }
        guard !route.sinks.isEmpty else { throw fail(node, "\(key).sinks", "missing: which sinks get the events") }
        return route
    }

    func sink(_ node: Node, _ key: String) throws(ConfigError) -> SinkSettings {
        let fields = try members(node, key, allowed: ["type", "path", "max_age", "max_size", "command", "concurrency", "timeout", "env",
                                                      "url", "commands_url", "actions_url", "signing_secret", "ca_file",
                                                      "stream", "subject_prefix", "duplicate_window", "replicas", "answer_wait",
                                                      "pass_bot_token"])
        guard let typeNode = fields.first(where: { $0.0 == "type" })?.1 else {
            throw fail(node, "\(key).type", "missing: stdout, file, command, spool, http or jetstream")
        }
        let type = try string(typeNode, "\(key).type")
        func field(_ name: String) -> Node? { fields.first { $0.0 == name }?.1 }
        func refuse(_ names: [String]) throws(ConfigError) {
            for name in names { if let extra = field(name) { throw fail(extra, "\(key).\(name)", "not a setting of a \(ConfigLoader.quoted(type)) sink") } }
        }
        if type != "http" { try refuse(["url", "commands_url", "actions_url", "signing_secret", "ca_file"]) }
        if type != "jetstream" { try refuse(["stream", "subject_prefix", "duplicate_window", "replicas", "answer_wait"]) }
        if type != "command" { try refuse(["pass_bot_token"]) }
        switch type {
        case "jetstream":
            try refuse(["path", "command", "concurrency", "env"])
            return .jetstream(try jetStreamSink(node, key, field: field))
        case "http":
            try refuse(["path", "max_age", "max_size", "command", "env"])
            func url(_ name: String) throws(ConfigError) -> String? {
                guard let node = field(name) else { return nil }
                let text = try string(node, "\(key).\(name)")
                guard (try? EndpointURL(text))?.scheme.isHTTP == true else { throw fail(node, "\(key).\(name)", "not an http:// or https:// URL") }
                return text
            }
            guard let events = try url("url") else { throw fail(node, "\(key).url", "missing: the app's Request URL for events") }
            guard let secretNode = field("signing_secret") else {
                throw fail(node, "\(key).signing_secret", "missing: the signing secret the app checks requests with")
            }
            var settings = HTTPForwardSettings(eventsURL: events, commandsURL: try url("commands_url"), actionsURL: try url("actions_url"),
                                               signingSecret: try string(secretNode, "\(key).signing_secret"))
            if let concurrency = field("concurrency") { settings.concurrency = try int(concurrency, "\(key).concurrency", range: 1...1024) }
            if let timeout = field("timeout") { settings.timeoutSeconds = try duration(timeout, "\(key).timeout", range: 0.001...3600) }
            if let caFile = field("ca_file") {
                let path = try string(caFile, "\(key).ca_file")
                let urls = [settings.eventsURL, settings.commandsURL, settings.actionsURL].compactMap { $0 }
                guard urls.contains(where: { (try? EndpointURL($0))?.isSecure == true }) else {
                    throw fail(caFile, "\(key).ca_file", "no https:// URL of this sink would use it")
                }
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw fail(caFile, "\(key).ca_file", "cannot read \(ConfigLoader.quoted(path)) (a PEM file of CA certificates)")
                }
                settings.caFile = path
            }
            return .http(settings)
        case "stdout":
            try refuse(["path", "max_age", "max_size", "command", "concurrency", "timeout", "env"])
            return .stdout
        case "file":
            try refuse(["max_age", "max_size", "command", "concurrency", "timeout", "env"])
            guard let path = field("path") else { throw fail(node, "\(key).path", "missing: the file to append JSON lines to") }
            return .file(path: try string(path, "\(key).path"))
        case "command":
            try refuse(["path", "max_age", "max_size"])
            guard let command = field("command") else {
                throw fail(node, "\(key).command", "missing: the program and its arguments, e.g. [./handle-event, --verbose]")
            }
            var settings = CommandSettings(arguments: try strings(command, "\(key).command"))
            if let concurrency = field("concurrency") { settings.concurrency = try int(concurrency, "\(key).concurrency", range: 1...256) }
            if let timeout = field("timeout") { settings.timeoutSeconds = try duration(timeout, "\(key).timeout", range: 0.001...86_400) }
            if let pass = field("pass_bot_token") { settings.passesBotToken = try bool(pass, "\(key).pass_bot_token") }
            if let env = field("env") {
                for (variable, value) in try anyMembers(env, "\(key).env") {
                    guard ChildEnvironment.isValidName(variable) else {
                        throw fail(value, "\(key).env.\(variable)", "not an environment variable name (letters, digits and _, not starting with a digit)")
                    }
                    let text = try string(value, "\(key).env.\(variable)")
                    guard !text.utf8.contains(0) else { throw fail(value, "\(key).env.\(variable)", "a NUL character cannot be in the environment") }
                    settings.environment[variable] = text
                }
            }
            return .command(settings)
        case "spool":
            try refuse(["command", "concurrency", "timeout", "env"])
            guard let path = field("path") else { throw fail(node, "\(key).path", "missing: the SQLite file of the spool") }
            var settings = SpoolSettings(path: try string(path, "\(key).path"))
            if let age = field("max_age") { settings.maxAgeSeconds = try duration(age, "\(key).max_age", range: 1...(3650 * 86_400)) }
            if let size = field("max_size") { settings.maxBytes = try byteCount(size, "\(key).max_size", range: (1 << 20)...(64 << 40)) }
            return .spool(settings)
        default:
            throw fail(typeNode, "\(key).type", "unknown sink type \(written(typeNode)) (stdout, file, command, spool, http, jetstream)")
        }
    }
}
