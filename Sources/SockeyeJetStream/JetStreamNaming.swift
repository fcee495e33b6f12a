import SockeyeSinkKit

/// The names an event gets in JetStream: the subject it is published to and the message id
/// the stream de-duplicates on. Pure functions of the record; no I/O.
///
/// Subject: `<prefix>.<app>.<envelope_type>.<event_type>`, e.g.
/// `slack.support-bot.events_api.message` or `slack.ops.slash_commands./deploy`. An event with
/// no type (a hello, an unknown envelope) gets `_` as its last token. A NATS subject token
/// cannot be empty or hold whitespace, `.`, `*` or `>`; each such byte (and every byte outside
/// printable ASCII) becomes `_`, so any app name or event type makes a subject that matches
/// exactly one literal subject and no wildcard.
///
/// Message id (`Nats-Msg-Id`): `<api_app_id>:<event_id>`, or `<api_app_id>:<envelope_id>` for
/// an envelope with no event id (slash commands, interactions). A redelivery of an event, a
/// retry, and the same event received by two nodes share it, so the stream stores it once
/// within its duplicate window. Without an `api_app_id` in the payload the app's configured
/// name stands in for it.
package enum JetStreamNaming {
    /// The longest token kept from an app name or event type; longer ones are cut (NATS has
    /// no limit of its own below the 1 MiB payload, but subjects are matched on every message).
    package static let maxTokenBytes = 128

    /// The subject `record` is published to under `prefix` (already validated).
    package static func subject(prefix: String, record: EventRecord) -> String {
        var subject = prefix
        for part in [record.app, record.envelopeType, record.eventType ?? ""] {
            subject += "."
            subject += token(part)
        }
        return subject
    }

    /// The message id the stream de-duplicates `record` on.
    package static func messageID(_ record: EventRecord) -> String {
        let app = record.apiAppID.flatMap { $0.isEmpty ? nil : $0 } ?? record.app
        let event = record.eventID.flatMap { $0.isEmpty ? nil : $0 } ?? record.envelopeID
        return app + ":" + event
    }

    /// `text` as one subject token: unsafe bytes replaced by `_`, cut at `maxTokenBytes`,
    /// `_` when empty.
    package static func token(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(text.utf8.count, maxTokenBytes))
        for byte in text.utf8.prefix(maxTokenBytes) {
            bytes.append(isTokenByte(byte) ? byte : UInt8(ascii: "_"))
        }
        return bytes.isEmpty ? "_" : String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `byte` may stand in a subject token as it is: printable ASCII except `.`, `*`
    /// and `>`.
    package static func isTokenByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "*") && byte != UInt8(ascii: ">")
    }
}
