import CJansson

/// jansson 2.x: `json_loadb` builds the whole tree (one heap object per value), the fields are
/// looked up in its hash tables, and `json_decref` frees the tree. This is what Sockeye's
/// prototype did per frame.
enum JanssonCompetitor {
    static var competitor: Competitor {
        Competitor(
            name: Competitor.janssonName,
            detail: "json_loadb + json_object_get of each field + json_decref",
            extract: { buffer throws(BenchmarkFailure) in
                var error = json_error_t()
                guard let root = json_loadb(buffer.charPointer, buffer.count, 0, &error) else {
                    throw BenchmarkFailure("jansson: \(errorText(&error))")
                }
                defer { sockeye_json_decref(root) }
                return try fields(of: root)
            },
            run: { buffer, iterations in
                var error = json_error_t()
                var checksum = 0
                for _ in 0..<iterations {
                    let bytes = opaque(buffer.bytes)
                    guard let root = json_loadb(
                        bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, 0, &error)
                    else { return -1 }
                    checksum &+= touchFields(of: root)
                    sockeye_json_decref(root)
                }
                return checksum
            }
        )
    }

    /// The timed extraction: finds every field and reads its value (pointer and length for
    /// strings), like the other competitors.
    @inline(__always)
    static func touchFields(of root: UnsafeMutablePointer<json_t>) -> Int {
        var checksum = 0
        checksum &+= stringLength(json_object_get(root, "type"))
        checksum &+= stringLength(json_object_get(root, "envelope_id"))
        checksum &+= sockeye_json_is_true(json_object_get(root, "accepts_response_payload")) != 0 ? 1 : 0
        checksum &+= Int(truncatingIfNeeded: json_integer_value(json_object_get(root, "retry_attempt")))
        checksum &+= stringLength(json_object_get(root, "retry_reason"))
        if let payload = json_object_get(root, "payload"), sockeye_json_is_object(payload) != 0 {
            checksum &+= stringLength(json_object_get(payload, "event_id"))
            if let teamID = json_object_get(payload, "team_id") {
                checksum &+= stringLength(teamID)
            } else if let team = json_object_get(payload, "team") {
                checksum &+= stringLength(json_object_get(team, "id"))
            }
            checksum &+= stringLength(json_object_get(payload, "type"))
            if let event = json_object_get(payload, "event") {
                checksum &+= stringLength(json_object_get(event, "type"))
            }
        }
        return checksum
    }

    @inline(__always)
    private static func stringLength(_ value: UnsafeMutablePointer<json_t>?) -> Int {
        guard let value, let text = json_string_value(value) else { return 0 }
        return Int(bitPattern: UInt(bitPattern: text)) &+ json_string_length(value)
    }

    /// The checked extraction, with types enforced.
    static func fields(of root: UnsafeMutablePointer<json_t>) throws(BenchmarkFailure) -> ExtractedFields {
        var fields = ExtractedFields()
        fields.type = try string(root, "type")
        fields.envelopeID = try string(root, "envelope_id")
        if let accepts = json_object_get(root, "accepts_response_payload") {
            if sockeye_json_is_true(accepts) != 0 {
                fields.acceptsResponsePayload = true
            } else if sockeye_json_is_false(accepts) != 0 {
                fields.acceptsResponsePayload = false
            } else {
                throw BenchmarkFailure("jansson: accepts_response_payload is not a boolean")
            }
        }
        if let attempt = json_object_get(root, "retry_attempt") {
            guard sockeye_json_is_integer(attempt) != 0 else {
                throw BenchmarkFailure("jansson: retry_attempt is not an integer")
            }
            fields.retryAttempt = Int64(json_integer_value(attempt))
        }
        fields.retryReason = try string(root, "retry_reason")
        if let payload = json_object_get(root, "payload") {
            guard sockeye_json_is_object(payload) != 0 else {
                throw BenchmarkFailure("jansson: payload is not an object")
            }
            fields.payload = .object
            fields.eventID = try string(payload, "event_id")
            fields.teamID = try string(payload, "team_id")
            if fields.teamID == nil, let team = json_object_get(payload, "team"), sockeye_json_is_object(team) != 0 {
                fields.teamID = try string(team, "id")
            }
            fields.payloadType = try string(payload, "type")
            if let event = json_object_get(payload, "event") {
                guard sockeye_json_is_object(event) != 0 else {
                    throw BenchmarkFailure("jansson: payload.event is not an object")
                }
                fields.eventType = try string(event, "type")
            }
        }
        return fields
    }

    private static func string(
        _ object: UnsafeMutablePointer<json_t>, _ key: String
    ) throws(BenchmarkFailure) -> String? {
        guard let value = json_object_get(object, key) else { return nil }
        guard let text = json_string_value(value) else {
            throw BenchmarkFailure("jansson: \(key) is not a string")
        }
        let bytes = UnsafeRawBufferPointer(start: text, count: json_string_length(value))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Checks that raw payload bytes (from the scanner or on-demand) parse to the same JSON
    /// value as the `payload` member of the whole envelope, using jansson's deep equality.
    static func checkRawPayload(_ raw: [UInt8], envelope buffer: PaddedBuffer) throws(BenchmarkFailure) {
        var error = json_error_t()
        guard let root = json_loadb(buffer.charPointer, buffer.count, 0, &error) else {
            throw BenchmarkFailure("jansson: \(errorText(&error))")
        }
        defer { sockeye_json_decref(root) }
        let parsed = raw.withUnsafeBytes { bytes in
            json_loadb(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, 0, &error)
        }
        guard let parsed else {
            throw BenchmarkFailure("raw payload bytes are not a JSON value: \(errorText(&error))")
        }
        defer { sockeye_json_decref(parsed) }
        guard json_equal(parsed, json_object_get(root, "payload")) != 0 else {
            throw BenchmarkFailure("raw payload bytes differ from the envelope's payload member")
        }
    }

    private static func errorText(_ error: inout json_error_t) -> String {
        let text = withUnsafeBytes(of: &error.text) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return "\(text) at byte \(error.position)"
    }
}
