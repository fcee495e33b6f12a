import Foundation
import SockeyeSinkKit
import Synchronization
import SockeyeCore

/// How the ingress reads a request's body (see `IngressRequest` in the sink kit for what it is).
extension IngressRequest {
    /// What the request is.
    public enum Reading: Sendable {
        /// Event Subscriptions' URL check: answer with the challenge.
        case urlVerification(challenge: String)
        /// An event, command or interaction for the sinks.
        case event(EventRecord)
        /// A notice to log and answer 200 (`app_rate_limited`).
        case notice(String)
        /// Not a request Slack would send (answer 400), and why.
        case invalid(String)
    }

    /// Reads `body`, received at `receivedAtMilliseconds`, for app `app`. `retryNumber` and
    /// `retryReason` are the `X-Slack-Retry-Num` and `X-Slack-Retry-Reason` headers.
    public static func read(_ body: UnsafeRawBufferPointer, kind: Kind, app: String, retryNumber: String?, retryReason: String?,
                            receivedAtMilliseconds: Int64, authorizer: (any EventAuthorizer)? = nil) -> Reading {
        let payload: [UInt8]
        let envelopeType: String
        switch kind {
        case .events:
            payload = trimmed(body)
            envelopeType = "events_api"
        case .commands:
            guard let pairs = FormEncoding.decode(body), !pairs.isEmpty else { return .invalid("the body is not a form") }
            guard pairs.contains(where: { $0.0 == "command" }) else { return .invalid("a slash command without `command`") }
            payload = FormEncoding.jsonObject(fromPairs: pairs)
            envelopeType = "slash_commands"
        case .actions:
            guard let pairs = FormEncoding.decode(body), let json = pairs.first(where: { $0.0 == "payload" })?.1 else {
                return .invalid("the body is not a form with a `payload` field")
            }
            payload = json.utf8.withContiguousStorageIfAvailable { trimmed(UnsafeRawBufferPointer($0)) } ?? trimmed(Array(json.utf8))
            envelopeType = "interactive"
        }
        // Scanned inside a Socket Mode-shaped envelope, so the fields come out exactly as
        // they do for Socket Mode (the same scanner, the same rules).
        let envelopeID = HTTPEnvelopeID.next()
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 96)
        frame.append(contentsOf: #"{"envelope_id":""#.utf8)
        frame.append(contentsOf: envelopeID.utf8)
        frame.append(contentsOf: #"","type":""#.utf8)
        frame.append(contentsOf: envelopeType.utf8)
        frame.append(contentsOf: #"","payload":"#.utf8)
        let payloadStart = frame.count
        frame.append(contentsOf: payload)
        frame.append(0x7D)
        return frame.withUnsafeBytes { bytes -> Reading in
            let envelope: Envelope
            do {
                envelope = try EnvelopeScanner.scan(bytes)
            } catch {
                return .invalid("the payload is not a JSON object: \(error)")
            }
            // The whole body must be the payload (not `{…},"type":"…"` smuggling members in).
            guard envelope.payload.isPresent, envelope.payload.offset == payloadStart, envelope.payload.length == payload.count,
                  payload.first == 0x7B else { return .invalid("the payload is not one JSON object") }
            func text(_ view: ByteView) -> String? { JSONStringDecoder.string(view, in: bytes) }
            let payloadType = text(envelope.payloadType)
            if kind == .events {
                switch payloadType {
                case "url_verification":
                    guard let challenge = challenge(payload) else { return .invalid("url_verification without a challenge") }
                    return .urlVerification(challenge: challenge)
                case "app_rate_limited":
                    return .notice("Slack is rate-limiting this app's events (app_rate_limited): some were not sent")
                case "event_callback":
                    break
                default:
                    return .invalid("unexpected Events API type \(payloadType ?? "(none)")")
                }
            }
            let attempt = retryNumber.flatMap { Int($0) }.map { max(0, $0) } ?? 0
            let parts = EventRecord.Parts(
                envelopeType: envelopeType, envelopeID: envelopeID, eventType: text(envelope.eventType), payloadType: payloadType,
                team: text(envelope.teamID), eventID: text(envelope.eventID), retryAttempt: attempt, retryReason: retryReason,
                acceptsResponsePayload: kind != .events)
            let record = EventRecord(app: app, delivery: .http, parts: parts, payload: envelope.payload.bytes(in: bytes),
                                     receivedAtMilliseconds: receivedAtMilliseconds,
                                     receivedAt: Timestamp.iso8601(milliseconds: receivedAtMilliseconds), authorizer: authorizer)
            return .event(record)
        }
    }

    /// `bytes` without leading and trailing JSON whitespace.
    static func trimmed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return [] }
        var out = Array(bytes[first...])
        while let last = out.last, isSpace(last) { out.removeLast() }
        return out
    }

    /// The `challenge` member of a `url_verification` body.
    static func challenge(_ payload: [UInt8]) -> String? {
        payload.withUnsafeBytes { bytes in
            guard let members = try? JSONObjectMembers.read(bytes),
                  let member = members.first(where: { $0.name == "challenge" && $0.isString }) else { return nil }
            return JSONStringDecoder.string(member.value, in: bytes)
        }
    }
}

/// Ids for HTTP requests' events (`http-` and a UUID-shaped value): a random 64-bit prefix
/// chosen once per process, then a counter, so ids never repeat within a process and
/// practically never across processes (no random source read per request).
enum HTTPEnvelopeID {
    private static let prefix: UInt64 = UInt64.random(in: 0...UInt64.max)
    private static let counter = Atomic<UInt64>(0)

    /// The next id, e.g. `http-3f2a9c1e-77d0-4b1a-8000-00000000002a`.
    static func next() -> String {
        let count = counter.add(1, ordering: .relaxed).newValue
        var text = [UInt8]()
        text.reserveCapacity(41)
        text.append(contentsOf: "http-".utf8)
        func hex(_ value: UInt64, digits: Int) {
            for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                let nibble = UInt8((value >> UInt64(shift)) & 0xF)
                text.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
            }
        }
        hex(prefix >> 32, digits: 8)
        text.append(0x2D)
        hex(prefix >> 16, digits: 4)
        text.append(0x2D)
        hex(prefix, digits: 4)
        text.append(0x2D)
        hex(count >> 48, digits: 4)
        text.append(0x2D)
        hex(count, digits: 12)
        return String(decoding: text, as: UTF8.self)
    }
}
