import DequeModule
import Foundation

/// What apps answered: every Socket Mode ack that carried a `payload`, and every non-empty
/// 2xx reply body to an HTTP slash command or interaction, newest last, the last
/// `capacity` kept (`GET /admin/responses`). Bodies are kept as bytes and parsed only
/// when listed, so recording costs one copy.
struct ResponseLog {
    /// One recorded answer.
    struct Entry {
        /// Envelope type of the payload that was answered.
        var type: EnvelopeType
        /// The answered payload's type: the command (`/deploy`), the interaction type
        /// (`view_submission`) or the event type (`app_mention`).
        var label: String
        var delivery: DeliveryMode
        /// Socket Mode only: the acked envelope.
        var envelopeID: String?
        /// The ack's `payload` JSON, or the HTTP reply body.
        var body: [UInt8]
    }

    let capacity: Int
    private(set) var entries: Deque<Entry> = []

    init(capacity: Int = 1000) { self.capacity = capacity }

    mutating func append(_ e: Entry) {
        entries.append(e)
        if entries.count > capacity { entries.removeFirst() }
    }

    /// The entries as `GET /admin/responses` lists them: `payload` is the parsed JSON
    /// value, or `text` the body when it is not JSON.
    var json: [[String: Any]] {
        entries.map { e in
            var o: [String: Any] = ["kind": e.type.rawValue, "type": e.label, "delivery": e.delivery.rawValue]
            if let id = e.envelopeID { o["envelope_id"] = id }
            if let value = try? JSONSerialization.jsonObject(with: Data(e.body), options: [.fragmentsAllowed]), !(value is String) {
                o["payload"] = value
            } else {
                o["text"] = String(decoding: e.body, as: UTF8.self)
            }
            return o
        }
    }

    /// The label of a payload template: `command` of a slash command, `type` of an
    /// interaction, the inner `event.type` of an event (else its `type`).
    static func label(of t: PayloadTemplate) -> String {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(t.bytes))) as? [String: Any] else { return t.kind }
        switch t.type {
        case .slashCommands: return o["command"] as? String ?? t.kind
        case .interactive: return o["type"] as? String ?? t.kind
        case .eventsAPI: return (o["event"] as? [String: Any])?["type"] as? String ?? o["type"] as? String ?? t.kind
        }
    }
}
