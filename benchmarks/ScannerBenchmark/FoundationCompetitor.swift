import Foundation

/// Foundation's `JSONSerialization`: builds dictionaries, arrays, strings and numbers for the
/// whole envelope, then the fields are read by casting. The input is wrapped without a copy.
enum FoundationCompetitor {
    static var competitor: Competitor {
        Competitor(
            name: Competitor.foundationName,
            detail: "Data(bytesNoCopy:) + jsonObject(with:) + casts of each field",
            extract: { buffer throws(BenchmarkFailure) in
                try fields(of: parse(buffer.bytes))
            },
            run: { buffer, iterations in
                var checksum = 0
                for _ in 0..<iterations {
                    guard let root = try? parse(opaque(buffer.bytes)) else { return -1 }
                    checksum &+= touchFields(of: root)
                }
                return checksum
            }
        )
    }

    @inline(__always)
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(BenchmarkFailure) -> [String: Any] {
        let data = Data(
            bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress!), count: bytes.count,
            deallocator: .none)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw BenchmarkFailure("JSONSerialization: \(error)")
        }
        guard let root = object as? [String: Any] else {
            throw BenchmarkFailure("JSONSerialization: the envelope is not an object")
        }
        return root
    }

    @inline(__always)
    static func touchFields(of root: [String: Any]) -> Int {
        var checksum = 0
        checksum &+= (root["type"] as? String)?.utf8.count ?? 0
        checksum &+= (root["envelope_id"] as? String)?.utf8.count ?? 0
        checksum &+= (root["accepts_response_payload"] as? Bool) == true ? 1 : 0
        checksum &+= (root["retry_attempt"] as? Int) ?? 0
        checksum &+= (root["retry_reason"] as? String)?.utf8.count ?? 0
        if let payload = root["payload"] as? [String: Any] {
            checksum &+= (payload["event_id"] as? String)?.utf8.count ?? 0
            if let teamID = payload["team_id"] as? String {
                checksum &+= teamID.utf8.count
            } else if let team = payload["team"] as? [String: Any] {
                checksum &+= (team["id"] as? String)?.utf8.count ?? 0
            }
            checksum &+= (payload["type"] as? String)?.utf8.count ?? 0
            if let event = payload["event"] as? [String: Any] {
                checksum &+= (event["type"] as? String)?.utf8.count ?? 0
            }
        }
        return checksum
    }

    static func fields(of root: [String: Any]) throws(BenchmarkFailure) -> ExtractedFields {
        func string(_ object: [String: Any], _ key: String) throws(BenchmarkFailure) -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value as? String else {
                throw BenchmarkFailure("JSONSerialization: \(key) is not a string")
            }
            return text
        }
        var fields = ExtractedFields()
        fields.type = try string(root, "type")
        fields.envelopeID = try string(root, "envelope_id")
        if let accepts = root["accepts_response_payload"] {
            guard let flag = accepts as? Bool else {
                throw BenchmarkFailure("JSONSerialization: accepts_response_payload is not a boolean")
            }
            fields.acceptsResponsePayload = flag
        }
        if let attempt = root["retry_attempt"] {
            guard let number = attempt as? NSNumber else {
                throw BenchmarkFailure("JSONSerialization: retry_attempt is not a number")
            }
            fields.retryAttempt = number.int64Value
        }
        fields.retryReason = try string(root, "retry_reason")
        if let payloadValue = root["payload"] {
            guard let payload = payloadValue as? [String: Any] else {
                throw BenchmarkFailure("JSONSerialization: payload is not an object")
            }
            fields.payload = .object
            fields.eventID = try string(payload, "event_id")
            fields.teamID = try string(payload, "team_id")
            if fields.teamID == nil, let team = payload["team"] as? [String: Any] {
                fields.teamID = try string(team, "id")
            }
            fields.payloadType = try string(payload, "type")
            if let eventValue = payload["event"] {
                guard let event = eventValue as? [String: Any] else {
                    throw BenchmarkFailure("JSONSerialization: payload.event is not an object")
                }
                fields.eventType = try string(event, "type")
            }
        }
        return fields
    }
}
