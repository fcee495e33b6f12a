import CNats
import Foundation
import Synchronization

/// One message fetched from a pull consumer, copied out of libnats.
package struct PulledMessage: Sendable {
    package var subject: String
    package var data: [UInt8]
    /// 1 for the first delivery.
    package var deliveries: Int
    package var streamSequence: UInt64
    /// Messages of the consumer still to deliver after this one (the worker's lag).
    package var pending: UInt64
    /// The handle `ack`, `nak`, `term` and `deadLetter` take.
    package var token: UInt64
    /// Where the event's answer goes, when someone waits for it (`AnswerInbox.header`).
    package var answerTo: String?
}

/// A durable pull consumer on libnats (`js_PullSubscribe`): fetches messages and settles them.
///
/// Threading: every method blocks for a round trip at most (`fetch` for up to its timeout);
/// call them from one serial queue, never from Swift's cooperative pool. Ownership: the
/// consumer holds the fetched `natsMsg`s until they are settled or it is closed (those not
/// settled are then delivered again by the server after the ack wait).
package final class CNatsPullConsumer: @unchecked Sendable {
    private let subscription: OpaquePointer
    private let context: OpaquePointer
    /// Fetched messages not settled yet, by token (their addresses: `OpaquePointer` is not `Sendable`).
    private let held = Mutex<(messages: [UInt64: UInt], next: UInt64)>(([:], 1))
    private let closed = Mutex(false)

    /// Binds to (creating if missing) the durable consumer `durable` of `stream` for
    /// `filter`, acknowledging explicitly, redelivering after `ackWaitSeconds` without an
    /// answer, with no delivery limit of its own (the worker decides when to give up).
    init(context: OpaquePointer, stream: String, durable: String, filter: String, ackWaitSeconds: Double,
         maxAckPending: Int) throws(JetStreamError) {
        self.context = context
        var options = jsSubOptions()
        jsSubOptions_Init(&options)
        var code = jsErrCode(0)
        var subscriptionPointer: OpaquePointer?
        let status = stream.withCString { streamName in
            durable.withCString { durableName in
                options.Stream = streamName
                options.Config.Durable = durableName
                options.Config.AckPolicy = js_AckExplicit
                options.Config.DeliverPolicy = js_DeliverAll
                options.Config.AckWait = Int64((ackWaitSeconds * 1e9).rounded())
                options.Config.MaxDeliver = -1
                options.Config.MaxAckPending = Int64(maxAckPending)
                return js_PullSubscribe(&subscriptionPointer, context, filter, durableName, nil, &options, &code)
            }
        }
        guard status == NATS_OK, let subscription = subscriptionPointer else {
            throw CNatsConnection.failure(status, code, doing: "binding consumer \(durable) of stream \(stream)")
        }
        self.subscription = subscription
    }

    deinit { close() }

    /// Up to `max` messages, waiting up to `timeoutMilliseconds` for the first; empty when none came.
    package func fetch(max: Int, timeoutMilliseconds: Int64) throws(JetStreamError) -> [PulledMessage] {
        var list = natsMsgList()
        var code = jsErrCode(0)
        let status = natsSubscription_Fetch(&list, subscription, Int32(max), timeoutMilliseconds, &code)
        if status == NATS_TIMEOUT { return [] }
        guard status == NATS_OK else { throw CNatsConnection.failure(status, code, doing: "fetching from the stream") }
        defer { natsMsgList_Destroy(&list) }
        var pulled: [PulledMessage] = []
        guard let messages = list.Msgs else { return [] }
        for index in 0..<Int(list.Count) {
            guard let message = messages[index] else { continue }
            messages[index] = nil  // ours now: natsMsgList_Destroy leaves it alone
            var meta: UnsafeMutablePointer<jsMsgMetaData>?
            var deliveries = 1
            var sequence: UInt64 = 0
            var pending: UInt64 = 0
            if natsMsg_GetMetaData(&meta, message) == NATS_OK, let meta {
                deliveries = Int(clamping: meta.pointee.NumDelivered)
                sequence = meta.pointee.Sequence.Stream
                pending = meta.pointee.NumPending
                jsMsgMetaData_Destroy(meta)
            }
            let data = CNatsConnection.data(of: message)
            let subject = natsMsg_GetSubject(message).map { String(cString: $0) } ?? ""
            var answerHeader: UnsafePointer<CChar>?
            let answerTo = natsMsgHeader_Get(message, AnswerInbox.header, &answerHeader) == NATS_OK ? answerHeader.map { String(cString: $0) } : nil
            let token = held.withLock { state in
                defer { state.next += 1 }
                state.messages[state.next] = UInt(bitPattern: message)
                return state.next
            }
            pulled.append(PulledMessage(subject: subject, data: data, deliveries: deliveries, streamSequence: sequence, pending: pending,
                                        token: token, answerTo: answerTo))
        }
        return pulled
    }

    /// Acknowledges the message: the consumer will not deliver it again.
    package func ack(_ token: UInt64) {
        settle(token) { natsMsg_Ack($0, nil) }
    }

    /// Has the server deliver the message again after `delayMilliseconds`.
    package func nak(_ token: UInt64, delayMilliseconds: Int64) {
        settle(token) { natsMsg_NakWithDelay($0, delayMilliseconds, nil) }
    }

    /// Publishes a copy of the message to `subject` (the dead letters), with `headers`, its
    /// original subject and stream sequence (`Sockeye-Subject`, `Sockeye-Stream-Sequence`) and
    /// `<idPrefix>:<stream sequence>` as its id (a replayed event that fails again is a new
    /// dead letter), then tells the consumer never to
    /// deliver it again. When the copy cannot be stored the message is kept (a later `nak`
    /// or `deadLetter` settles it) and the error thrown.
    package func deadLetter(_ token: UInt64, subject: String, idPrefix: String, headers: [(String, String)]) throws(JetStreamError) {
        guard let address = held.withLock({ $0.messages[token] }), let original = OpaquePointer(bitPattern: address) else { return }
        var copy: OpaquePointer?
        let length = Int(natsMsg_GetDataLength(original))
        var status = natsMsg_Create(&copy, subject, nil, natsMsg_GetData(original), Int32(length))
        guard status == NATS_OK, let copy else { throw CNatsConnection.failure(status, jsErrCode(0), doing: "copying a dead letter") }
        defer { natsMsg_Destroy(copy) }
        let originalSubject = natsMsg_GetSubject(original).map { String(cString: $0) } ?? ""
        var sequence: UInt64 = 0
        var meta: UnsafeMutablePointer<jsMsgMetaData>?
        if natsMsg_GetMetaData(&meta, original) == NATS_OK, let meta {
            sequence = meta.pointee.Sequence.Stream
            jsMsgMetaData_Destroy(meta)
        }
        let messageID = "\(idPrefix):\(sequence)"
        let origin = [("Sockeye-Subject", originalSubject), ("Sockeye-Stream-Sequence", sequence > 0 ? String(sequence) : "")]
        for (name, value) in headers + origin where status == NATS_OK && !value.isEmpty {
            status = natsMsgHeader_Set(copy, name, value)
        }
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        var code = jsErrCode(0)
        if status == NATS_OK {
            status = messageID.withCString { id in
                options.MsgId = id
                return js_PublishMsg(nil, context, copy, &options, &code)
            }
        }
        guard status == NATS_OK else { throw CNatsConnection.failure(status, code, doing: "storing a dead letter") }
        settle(token) { natsMsg_Term($0, nil) }
    }

    /// Closes the subscription (the durable consumer stays on the server) and releases the
    /// messages not settled: the server delivers them again after the ack wait.
    package func close() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        let messages = held.withLock { state in
            defer { state.messages = [:] }
            return Array(state.messages.values)
        }
        for address in messages { natsMsg_Destroy(OpaquePointer(bitPattern: address)) }
        natsSubscription_Destroy(subscription)
    }

    private func settle(_ token: UInt64, _ operation: (OpaquePointer) -> natsStatus) {
        guard let address = held.withLock({ $0.messages.removeValue(forKey: token) }), let message = OpaquePointer(bitPattern: address) else {
            return
        }
        _ = operation(message)
        natsMsg_Destroy(message)
    }
}
