import CJansson
import SockeyeCore

/// jansson as the reference parser: what it says about a frame, and what the scanner must
/// therefore return, computed from jansson's tree alone.
enum JanssonOracle {
    typealias Node = UnsafeMutablePointer<json_t>

    enum Verdict {
        /// jansson refused the frame for a documented limitation of its own (NUL in a key,
        /// an integer beyond 64 bits, a real overflowing a double): not compared.
        case limitation(String)
        /// jansson refused the frame as invalid JSON (or nested beyond its own 2048 limit).
        case invalid(String)
        /// jansson accepted it; the scanner must produce `expected`, and the ack scanner `ack`.
        case valid(Expected, ack: ExpectedAck)
    }

    /// What the scanner must return for a frame jansson accepted.
    enum Expected {
        case error(ScanError.Kind)
        case envelope(ExpectedEnvelope)
    }

    struct ExpectedEnvelope {
        var kind: MessageKind
        var strings: [(name: String, value: [UInt8]?)]
        var acceptsResponsePayload: Bool?
        var integers: [(name: String, value: Int64?)]
        var disconnectReason: DisconnectReason
        /// jansson's `payload` member (borrowed from the root), or nil when absent.
        var payload: Node?
        /// Whether some recognised field (as jansson sees it, last duplicate winning) has
        /// an unexpected type: then the scanner must have set `.fieldTypeMismatch`.
        var mismatch: Bool
    }

    /// Parses `bytes` with jansson and calls `body` with the verdict; the tree lives only
    /// during `body`.
    static func withVerdict<R>(_ bytes: [UInt8], maxDepth: Int, _ body: (Verdict) -> R) -> R {
        var error = json_error_t()
        let root = bytes.withUnsafeBytes { sockeye_json_load($0.baseAddress, $0.count, &error) }
        guard let root else {
            let text = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let code = sockeye_json_error_code(&error)
            if code == sockeye_json_error_null_byte_in_key() || code == sockeye_json_error_numeric_overflow() {
                return body(.limitation(text))
            }
            return body(.invalid(text))
        }
        defer { sockeye_json_decref(root) }
        // The depth comes from the text: a duplicate member that jansson dropped from its tree
        // still had to be validated, at its own depth. On text jansson accepted, counting
        // brackets outside strings is exact; it is never less than the tree's depth.
        let depth = textDepth(bytes)
        precondition(depth >= self.depth(of: root), "text depth below tree depth")
        return body(.valid(expected(root, depth: depth, maxDepth: maxDepth), ack: expectedAck(root, depth: depth, maxDepth: maxDepth)))
    }

    /// The deepest nesting of `[`/`{` outside strings in valid JSON text.
    static func textDepth(_ bytes: [UInt8]) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                if b == 0x5C { i += 1 } else if b == 0x22 { inString = false }
            } else if b == 0x22 {
                inString = true
            } else if b == 0x5B || b == 0x7B {
                depth += 1
                deepest = max(deepest, depth)
            } else if b == 0x5D || b == 0x7D {
                depth -= 1
            }
            i += 1
        }
        return deepest
    }

    static func expected(_ root: Node, depth: Int, maxDepth: Int) -> Expected {
        if depth > maxDepth { return .error(.depthExceeded) }
        guard sockeye_json_is_object(root) != 0 else { return .error(.notAnObject) }
        var mismatch = false
        func string(_ node: Node?) -> [UInt8]? {
            guard let node else { return nil }
            guard sockeye_json_is_string(node) != 0 else {
                mismatch = true
                return nil
            }
            return bytes(of: node)
        }
        func integer(_ node: Node?) -> Int64? {
            guard let node else { return nil }
            guard sockeye_json_is_integer(node) != 0 else {
                mismatch = true
                return nil
            }
            return Int64(json_integer_value(node))
        }
        func object(_ node: Node?) -> Node? {
            guard let node else { return nil }
            guard sockeye_json_is_object(node) != 0 else {
                mismatch = true
                return nil
            }
            return node
        }

        let typeNode = json_object_get(root, "type")
        if let typeNode, sockeye_json_is_string(typeNode) == 0 { return .error(.fieldType) }
        guard let typeNode else { return .error(.missingType) }
        let idNode = json_object_get(root, "envelope_id")
        if let idNode, sockeye_json_is_string(idNode) == 0 { return .error(.fieldType) }
        let type = bytes(of: typeNode)
        let kind: MessageKind =
            switch String(decoding: type, as: UTF8.self) {
            case _ where type.contains(0): .unknown
            case "hello": .hello
            case "disconnect": .disconnect
            case "events_api": .eventsAPI
            case "slash_commands": .slashCommands
            case "interactive": .interactive
            default: .unknown
            }
        if idNode == nil && (kind == .eventsAPI || kind == .slashCommands || kind == .interactive) {
            return .error(.missingEnvelopeID)
        }

        var accepts: Bool? = nil
        if let node = json_object_get(root, "accepts_response_payload") {
            if sockeye_json_is_true(node) != 0 {
                accepts = true
            } else if sockeye_json_is_false(node) != 0 {
                accepts = false
            } else {
                mismatch = true
            }
        }
        let reason = string(json_object_get(root, "reason"))
        let connectionInfo = object(json_object_get(root, "connection_info"))
        let debugInfo = object(json_object_get(root, "debug_info"))
        let payload = json_object_get(root, "payload")
        let payloadObject = payload.flatMap { sockeye_json_is_object($0) != 0 ? $0 : nil }
        let event = object(payloadObject.flatMap { json_object_get($0, "event") })
        let team = object(payloadObject.flatMap { json_object_get($0, "team") })
        let teamID = string(payloadObject.flatMap { json_object_get($0, "team_id") })
        let teamDotID = string(team.flatMap { json_object_get($0, "id") })

        var disconnectReason = DisconnectReason.none
        if kind == .disconnect, let reason {
            disconnectReason =
                switch String(decoding: reason, as: UTF8.self) {
                case _ where reason.contains(0): .unknown
                case "warning": .warning
                case "refresh_requested": .refreshRequested
                case "link_disabled": .linkDisabled
                case "too_many_websockets": .tooManyWebsockets
                default: .unknown
                }
        }

        let strings: [(String, [UInt8]?)] = [
            ("type", type),
            ("envelope_id", idNode.map(bytes(of:))),
            ("retry_reason", string(json_object_get(root, "retry_reason"))),
            ("event_id", string(payloadObject.flatMap { json_object_get($0, "event_id") })),
            ("team_id", teamID ?? teamDotID),
            ("payload_type", string(payloadObject.flatMap { json_object_get($0, "type") })),
            ("event_type", string(event.flatMap { json_object_get($0, "type") })),
            ("reason", reason),
            ("app_id", string(connectionInfo.flatMap { json_object_get($0, "app_id") })),
            ("debug_host", string(debugInfo.flatMap { json_object_get($0, "host") })),
        ]
        let integers: [(String, Int64?)] = [
            ("retry_attempt", integer(json_object_get(root, "retry_attempt"))),
            ("num_connections", integer(json_object_get(root, "num_connections"))),
            ("build_number", integer(debugInfo.flatMap { json_object_get($0, "build_number") })),
            ("approximate_connection_time", integer(debugInfo.flatMap { json_object_get($0, "approximate_connection_time") })),
        ]
        return .envelope(
            ExpectedEnvelope(
                kind: kind, strings: strings, acceptsResponsePayload: accepts, integers: integers,
                disconnectReason: disconnectReason, payload: payload, mismatch: mismatch))
    }

    /// What `AckScanner` must return for a frame jansson accepted.
    enum ExpectedAck {
        case error(ScanError.Kind)
        /// The decoded envelope id and jansson's `payload` member (borrowed), if any.
        case ack(envelopeID: [UInt8], payload: Node?)
    }

    static func expectedAck(_ root: Node, depth: Int, maxDepth: Int) -> ExpectedAck {
        if depth > maxDepth { return .error(.depthExceeded) }
        guard sockeye_json_is_object(root) != 0 else { return .error(.notAnObject) }
        guard let id = json_object_get(root, "envelope_id") else { return .error(.missingEnvelopeID) }
        guard sockeye_json_is_string(id) != 0 else { return .error(.fieldType) }
        return .ack(envelopeID: bytes(of: id), payload: json_object_get(root, "payload"))
    }

    /// A string node's bytes (NULs included).
    static func bytes(of node: Node) -> [UInt8] {
        let length = json_string_length(node)
        guard let value = json_string_value(node), length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: value, count: length))
    }

    /// Nesting depth: a scalar is 0, an empty or flat container 1.
    static func depth(of node: Node) -> Int {
        if sockeye_json_is_object(node) != 0 {
            var deepest = 0
            var iterator = json_object_iter(node)
            while let it = iterator {
                if let child = json_object_iter_value(it) { deepest = max(deepest, depth(of: child)) }
                iterator = json_object_iter_next(node, it)
            }
            return deepest + 1
        }
        if sockeye_json_is_array(node) != 0 {
            var deepest = 0
            for i in 0..<json_array_size(node) {
                if let child = json_array_get(node, i) { deepest = max(deepest, depth(of: child)) }
            }
            return deepest + 1
        }
        return 0
    }

    /// Whether `raw` (the scanner's payload view) parses with jansson to a value equal to
    /// `expected`.
    static func payloadMatches(_ raw: UnsafeRawBufferPointer, _ expected: Node) -> Bool {
        var error = json_error_t()
        guard let parsed = sockeye_json_load(raw.baseAddress, raw.count, &error) else { return false }
        defer { sockeye_json_decref(parsed) }
        return json_equal(parsed, expected) != 0
    }
}
