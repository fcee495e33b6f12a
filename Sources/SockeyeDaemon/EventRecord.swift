import Foundation
import Synchronization
import Sockeye
import SockeyeCore

/// What the daemon knows of one event once it has looked at it: the fields routes match on
/// and the normalized JSON line every sink writes (schema: `docs/event-line.schema.json`).
///
/// The line is one JSON object:
/// `{"app":…,"delivery":"socket_mode"|"http","envelope_type":…,"envelope_id":…,"event_type":…,`
/// `"team":…,"channel":…,"user":…,"event_id":…,"retry_attempt":…,"retry_reason":…,`
/// `"received_at":"2026-11-30T04:24:15.123Z","payload":{…}}` — `payload` is Slack's JSON
/// exactly as received; absent fields are `null`.
public struct EventRecord: Sendable {
    /// The app's name in the configuration.
    public let app: String
    public let envelopeType: String
    public let envelopeID: String
    /// `payload.event.type`, or `payload.type` (interactive), or the slash command.
    public let eventType: String?
    public let team: String?
    public let channel: String?
    public let user: String?
    /// `payload.event.bot_id`.
    public let botID: String?
    public let eventID: String?
    public let retryAttempt: Int
    public let retryReason: String?
    public let acceptsResponsePayload: Bool
    /// Wall-clock time the daemon took the event, in milliseconds since 1970.
    public let receivedAtMilliseconds: Int64
    /// The normalized line, without its newline.
    public let line: [UInt8]
    /// Where Slack's payload is in `line`.
    let payloadRange: Range<Int>

    /// Slack's payload exactly as received (a copy of its bytes in `line`).
    public var payloadBytes: [UInt8] { Array(line[payloadRange]) }

    /// How the event reached the daemon (the line's `delivery`).
    public let delivery: Delivery

    /// Socket Mode or an HTTP request to the ingress.
    public enum Delivery: String, Sendable {
        case socketMode = "socket_mode"
        case http
    }

    /// Reads `event` for app `app`.
    public init(_ event: SocketModeEvent, app: String, receivedAtMilliseconds: Int64) {
        self.init(event, app: app, receivedAtMilliseconds: receivedAtMilliseconds,
                  receivedAt: Timestamp.iso8601(milliseconds: receivedAtMilliseconds))
    }

    /// Reads `event` for app `app`; `receivedAt` is `receivedAtMilliseconds` in ISO 8601
    /// (formatted once for a whole batch).
    init(_ event: SocketModeEvent, app: String, receivedAtMilliseconds: Int64, receivedAt: String) {
        let parts = Parts(envelopeType: event.type, envelopeID: event.envelopeID, eventType: event.eventType,
                          payloadType: event.payloadType, team: event.teamID, eventID: event.eventID,
                          retryAttempt: event.retryAttempt, retryReason: event.retryReason,
                          acceptsResponsePayload: event.acceptsResponsePayload)
        self = event.withPayloadBytes { payload in
            EventRecord(app: app, delivery: .socketMode, parts: parts, payload: payload,
                        receivedAtMilliseconds: receivedAtMilliseconds, receivedAt: receivedAt)
        }
    }

    /// The envelope's fields, as Socket Mode's envelope (or an HTTP request) gives them.
    struct Parts {
        var envelopeType: String
        var envelopeID: String
        var eventType: String?
        var payloadType: String?
        var team: String?
        var eventID: String?
        var retryAttempt: Int
        var retryReason: String?
        var acceptsResponsePayload: Bool
    }

    /// The record of an event whose envelope fields are `parts` and whose payload (Slack's
    /// JSON object) is `payload`, delivered by `delivery`.
    init(app: String, delivery: Delivery, parts: Parts, payload: UnsafeRawBufferPointer, receivedAtMilliseconds: Int64,
         receivedAt: String) {
        self.app = app
        self.delivery = delivery
        envelopeType = parts.envelopeType
        envelopeID = parts.envelopeID
        team = parts.team
        eventID = parts.eventID
        retryAttempt = parts.retryAttempt
        retryReason = parts.retryReason.flatMap { $0.isEmpty ? nil : $0 }
        acceptsResponsePayload = parts.acceptsResponsePayload
        self.receivedAtMilliseconds = receivedAtMilliseconds
        let read = (try? PayloadFields.read(payload)) ?? PayloadFields()
        func text(_ view: ByteView) -> String? {
            guard view.isPresent else { return nil }
            let raw = view.bytes(in: payload)
            guard view.isEscaped else { return String(decoding: raw, as: UTF8.self) }
            return JSONStringDecoder.string(view, in: payload)
        }
        channel = text(read.channel)
        user = text(read.user)
        botID = text(read.botID)
        eventType = parts.eventType ?? (parts.envelopeType == "slash_commands" ? text(read.command) : parts.payloadType)
        var writer = JSONLineWriter()
        // The payload plus the envelope fields (ids and names are short).
        writer.begin(capacity: payload.count + 320 + app.utf8.count)
        writer.field("app", app)
        writer.field("delivery", delivery.rawValue)
        writer.field("envelope_type", envelopeType)
        writer.field("envelope_id", envelopeID)
        writer.field("event_type", eventType)
        writer.field("team", team)
        writer.field("channel", channel)
        writer.field("user", user)
        writer.field("event_id", eventID)
        writer.field("retry_attempt", retryAttempt)
        writer.field("retry_reason", retryReason)
        writer.field("received_at", receivedAt)
        writer.key("payload")
        let payloadStart = writer.bytes.count
        writer.raw(payload.isEmpty ? UnsafeRawBufferPointer(start: nil, count: 0) : payload)
        payloadRange = payloadStart..<writer.bytes.count
        writer.end()
        line = writer.bytes
    }
}

/// Writes one JSON object into bytes.
struct JSONLineWriter {
    private(set) var bytes: [UInt8] = []
    private var first = true

    /// Starts the object in a buffer of `capacity` bytes (the whole line, so it grows once).
    mutating func begin(capacity: Int) {
        bytes.reserveCapacity(capacity)
        bytes.append(0x7B)
    }

    mutating func end() { bytes.append(0x7D) }

    mutating func key(_ name: String) {
        if !first { bytes.append(0x2C) }
        first = false
        string(name)
        bytes.append(0x3A)
    }

    mutating func field(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { bytes.append(contentsOf: "null".utf8) }
    }

    mutating func field(_ name: String, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Raw JSON (already valid): `null` when empty.
    mutating func raw(_ json: UnsafeRawBufferPointer) {
        if json.isEmpty { bytes.append(contentsOf: "null".utf8) } else { bytes.append(contentsOf: json) }
    }

    /// A JSON string with the escapes RFC 8259 requires.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(0x22)
            // Ids, types and timestamps have nothing to escape: copied whole.
            if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                bytes.append(contentsOf: utf8)
            } else {
                for byte in utf8 { escape(byte) }
            }
            bytes.append(0x22)
        }
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
        case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
        case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
        case 0..<0x20:
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        default: bytes.append(byte)
        }
    }
}

/// Wall-clock formatting without Foundation's formatters on the hot path.
public enum Timestamp {
    /// Seconds on the monotonic clock (for intervals; not wall time).
    public static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Milliseconds since 1970, now.
    public static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// `2026-11-30T04:24:15.123Z`.
    static func iso8601(milliseconds: Int64) -> String {
        let second = milliseconds / 1000
        let millis = Int(milliseconds % 1000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        // The date and time up to the second change once a second: formatted once for it.
        // Never waits for the lock: a thread that finds it taken formats the prefix itself.
        if let prefix = secondPrefix.withLockIfAvailable({ $0.second == second ? $0.text : nil }) ?? nil {
            return prefix + fraction + "Z"
        }
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let prefix = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
        _ = secondPrefix.withLockIfAvailable { $0 = (second, prefix) }
        return prefix + fraction + "Z"
    }

    /// The last second `iso8601` formatted, and its text up to the fraction.
    private static let secondPrefix = Mutex<(second: Int64, text: String)>((-1, ""))
}
