import CNats
import Foundation
import SockeyeCore
import SockeyeSinkKit
import Synchronization

/// `JetStreamConnection` on the NATS C client (libnats 3.4, Debian's `libnats-dev`).
///
/// One NATS connection and one JetStream context per sink. The connection retries for ever:
/// `init` returns at once when no server answers (the sink then reports itself unavailable
/// and nacks until one does), reconnects every 250 ms after a loss, and notices a silent
/// server within about ten seconds (a ping every 5 s, two unanswered). Messages are published
/// asynchronously (`js_PublishMsgAsync`); the library's PubAck handler, on a libnats thread,
/// finds each message's token by the message's address and hands the answer on.
///
/// Threading: as `JetStreamConnection`. Ownership: the connection owns its libnats objects and
/// frees them in `close()` (or on deinit).
package final class CNatsConnection: JetStreamConnection {
    // libnats's connection and JetStream context are safe to use from any thread.
    nonisolated(unsafe) private let connection: OpaquePointer
    nonisolated(unsafe) private let context: OpaquePointer
    private let router: AnswerRouter
    private let routerReference: Unmanaged<AnswerRouter>
    private let closed = Mutex(false)

    /// Published messages a connection keeps in flight at most; one more waits up to
    /// `stallMilliseconds`, then fails (the batch's events are nacked).
    package static let maxPending: Int64 = 65_536
    package static let stallMilliseconds: Int64 = 50

    /// Connects to `cluster`'s servers (returning at once if none answers; the connection
    /// keeps trying). Throws when the settings are refused (a malformed URL) or the library
    /// is not the one this was built with.
    package init(cluster: ClusterSettings, answer: @escaping JetStreamAnswerHandler) throws(JetStreamError) {
        guard sockeye_nats_compatible() else {
            throw JetStreamError(.refused, "the NATS C library (libnats) loaded is not the version sockeyed was built with")
        }
        var optionsPointer: OpaquePointer?
        guard natsOptions_Create(&optionsPointer) == NATS_OK, let options = optionsPointer else {
            throw Self.failure(NATS_NO_MEMORY, jsErrCode(0), doing: "setting up the NATS connection")
        }
        defer { natsOptions_Destroy(options) }
        let timeout = Int64((cluster.requestTimeoutSeconds * 1000).rounded())
        var status = Self.withCStrings(cluster.servers) { natsOptions_SetServers(options, $0, Int32(cluster.servers.count)) }
        if status == NATS_OK { status = natsOptions_SetName(options, "sockeyed \(cluster.node)") }
        if status == NATS_OK { status = natsOptions_SetTimeout(options, timeout) }
        if status == NATS_OK { status = natsOptions_SetMaxReconnect(options, -1) }
        if status == NATS_OK { status = natsOptions_SetReconnectWait(options, 250) }
        if status == NATS_OK { status = natsOptions_SetPingInterval(options, 5_000) }
        if status == NATS_OK { status = natsOptions_SetMaxPingsOut(options, 2) }
        if status == NATS_OK {
            // With a connected handler, a first connect that fails returns NATS_NOT_YET_CONNECTED
            // at once and goes on trying in the background.
            status = natsOptions_SetRetryOnFailedConnect(options, true, { _, _ in }, nil)
        }
        guard status == NATS_OK else { throw Self.failure(status, jsErrCode(0), doing: "reading the cluster's server URLs") }
        try Self.configureTLS(options, cluster)

        var connectionPointer: OpaquePointer?
        status = natsConnection_Connect(&connectionPointer, options)
        guard status == NATS_OK || status == NATS_NOT_YET_CONNECTED, let connection = connectionPointer else {
            throw Self.failure(status, jsErrCode(0), doing: "connecting to NATS")
        }
        router = AnswerRouter(handler: answer)
        routerReference = Unmanaged.passRetained(router)
        var jetStream = jsOptions()
        jsOptions_Init(&jetStream)
        jetStream.Wait = timeout
        jetStream.PublishAsync.MaxPending = Self.maxPending
        jetStream.PublishAsync.StallWait = Self.stallMilliseconds
        jetStream.PublishAsync.AckHandlerClosure = routerReference.toOpaque()
        jetStream.PublishAsync.AckHandler = { _, message, ack, failure, closure in
            defer { natsMsg_Destroy(message) }
            guard let message, let closure else { return }
            let router = Unmanaged<AnswerRouter>.fromOpaque(closure).takeUnretainedValue()
            guard let token = router.take(UInt(bitPattern: message)) else { return }
            if let ack {
                router.handler(token, .stored(sequence: ack.pointee.Sequence, duplicate: ack.pointee.Duplicate))
            } else if let failure {
                // Not libnats's last error: that is per thread, and this thread's may be stale.
                let text = failure.pointee.ErrText.map { String(cString: $0) } ?? ""
                router.handler(token, .failed(CNatsConnection.failure(failure.pointee.Err, failure.pointee.ErrCode, doing: "publishing",
                                                                      serverText: text)))
            } else {
                router.handler(token, .failed(JetStreamError(.unavailable, "publishing: no PubAck")))
            }
        }
        var contextPointer: OpaquePointer?
        status = natsConnection_JetStream(&contextPointer, connection, &jetStream)
        guard status == NATS_OK, let context = contextPointer else {
            natsConnection_Destroy(connection)
            routerReference.release()
            throw Self.failure(status, jsErrCode(0), doing: "opening JetStream")
        }
        self.connection = connection
        self.context = context
    }

    deinit { close() }

    /// The JetStream context, for this module's other libnats calls.
    var jetStreamContext: OpaquePointer { context }

    /// Binds a durable pull consumer (see `CNatsPullConsumer.init`).
    package func pullConsumer(stream: String, durable: String, filter: String, ackWaitSeconds: Double,
                              maxAckPending: Int) throws(JetStreamError) -> CNatsPullConsumer {
        try CNatsPullConsumer(context: context, stream: stream, durable: durable, filter: filter, ackWaitSeconds: ackWaitSeconds,
                              maxAckPending: maxAckPending)
    }

    package var isConnected: Bool { natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED }

    package var serverCount: Int {
        var servers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var count: Int32 = 0
        guard natsConnection_GetServers(connection, &servers, &count) == NATS_OK, let servers else { return 0 }
        for index in 0..<Int(count) { free(servers[index]) }
        free(servers)
        return Int(count)
    }

    package func fetchStream(_ name: String) throws(JetStreamError) -> StreamSnapshot? {
        var infoPointer: UnsafeMutablePointer<jsStreamInfo>?
        var code = jsErrCode(0)
        let status = js_GetStreamInfo(&infoPointer, context, name, nil, &code)
        if code == JSStreamNotFoundErr || (status == NATS_NOT_FOUND && code == jsErrCode(0)) { return nil }
        guard status == NATS_OK, let info = infoPointer else { throw Self.failure(status, code, doing: "reading stream \(name)") }
        defer { jsStreamInfo_Destroy(info) }
        guard let config = info.pointee.Config?.pointee else { throw JetStreamError(.refused, "stream \(name): the server sent no settings") }
        var subjects: [String] = []
        if let list = config.Subjects {
            for index in 0..<Int(max(0, config.SubjectsLen)) { if let subject = list[index] { subjects.append(String(cString: subject)) } }
        }
        let spec = StreamSpec(name: name, subjects: subjects, maxAgeNanoseconds: config.MaxAge, maxBytes: config.MaxBytes,
                              duplicateWindowNanoseconds: config.Duplicates, replicas: Int(config.Replicas),
                              fileStorage: config.Storage == js_FileStorage)
        let held = info.pointee.State
        return StreamSnapshot(spec: spec, messages: held.Msgs, bytes: held.Bytes, firstSequence: held.FirstSeq, lastSequence: held.LastSeq,
                              leader: info.pointee.Cluster?.pointee.Leader.map { String(cString: $0) })
    }

    package func createStream(_ spec: StreamSpec) throws(JetStreamError) {
        try createStream(spec) { _ in }
    }

    /// Creates a stream, with settings beyond `StreamSpec`'s made by `adjust`.
    func createStream(_ spec: StreamSpec, adjust: (UnsafeMutablePointer<jsStreamConfig>) -> Void) throws(JetStreamError) {
        var code = jsErrCode(0)
        let status = Self.withConfig(spec) { config in
            adjust(config)
            return js_AddStream(nil, context, config, nil, &code)
        }
        guard status == NATS_OK else { throw Self.failure(status, code, doing: "creating stream \(spec.name)") }
    }

    package func updateStream(_ spec: StreamSpec) throws(JetStreamError) {
        var code = jsErrCode(0)
        let status = Self.withConfig(spec) { config in js_UpdateStream(nil, context, config, nil, &code) }
        guard status == NATS_OK else { throw Self.failure(status, code, doing: "updating stream \(spec.name)") }
    }

    package func publish(subject: String, messageID: String, payload: [UInt8], headers: [(String, String)], token: UInt64)
        -> JetStreamError? {
        guard isConnected else { return JetStreamError(.unavailable, "not connected to a NATS server") }
        var message: OpaquePointer?
        var status = payload.withUnsafeBytes { bytes in
            natsMsg_Create(&message, subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        guard status == NATS_OK, let created = message else { return Self.failure(status, jsErrCode(0), doing: "publishing") }
        for (name, value) in headers where status == NATS_OK { status = natsMsgHeader_Set(created, name, value) }
        guard status == NATS_OK else {
            natsMsg_Destroy(created)
            return Self.failure(status, jsErrCode(0), doing: "publishing")
        }
        let address = UInt(bitPattern: created)
        // Registered first: the PubAck may come back before js_PublishMsgAsync returns.
        router.register(address, token)
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        status = messageID.withCString { id in
            options.MsgId = id
            return js_PublishMsgAsync(context, &message, &options)
        }
        guard status == NATS_OK else {
            _ = router.take(address)
            natsMsg_Destroy(message)  // still ours: the library takes a message only when it accepts it
            return Self.failure(status, jsErrCode(0), doing: "publishing")
        }
        return nil
    }

    /// The libnats connection, for subscriptions made in this module.
    var natsConnection: OpaquePointer { connection }

    /// Publishes `payload` to `subject` on core NATS (no stream, no PubAck: a worker's answer
    /// to the node waiting for it). Returns at once.
    package func publishCore(subject: String, payload: [UInt8]) -> JetStreamError? {
        guard isConnected else { return JetStreamError(.unavailable, "not connected to a NATS server") }
        let status = payload.withUnsafeBytes { bytes in
            natsConnection_Publish(connection, subject, bytes.baseAddress, Int32(bytes.count))
        }
        return status == NATS_OK ? nil : Self.failure(status, jsErrCode(0), doing: "publishing an answer")
    }

    /// The message at `sequence` of `stream` (its data and the headers named in `headers`), or
    /// nil when there is none (deleted, or past the end). Blocking.
    package func message(of stream: String, at sequence: UInt64, headers names: [String]) throws(JetStreamError)
        -> (data: [UInt8], headers: [String: String])? {
        var messagePointer: OpaquePointer?
        var code = jsErrCode(0)
        let status = js_GetMsg(&messagePointer, context, stream, sequence, nil, &code)
        if status == NATS_NOT_FOUND || code == JSNoMessageFoundErr { return nil }
        guard status == NATS_OK, let message = messagePointer else {
            throw Self.failure(status, code, doing: "reading message \(sequence) of stream \(stream)")
        }
        defer { natsMsg_Destroy(message) }
        let data = Self.data(of: message)
        var found: [String: String] = [:]
        for name in names {
            var value: UnsafePointer<CChar>?
            if natsMsgHeader_Get(message, name, &value) == NATS_OK, let value { found[name] = String(cString: value) }
        }
        return (data, found)
    }

    /// Deletes the message at `sequence` of `stream`. Blocking.
    package func deleteMessage(of stream: String, at sequence: UInt64) throws(JetStreamError) {
        var code = jsErrCode(0)
        let status = js_DeleteMsg(context, stream, sequence, nil, &code)
        guard status == NATS_OK else { throw Self.failure(status, code, doing: "deleting message \(sequence) of stream \(stream)") }
    }

    /// Publishes and waits for the PubAck (blocking): whether the stream already had `messageID`.
    package func publishAndWait(subject: String, messageID: String, payload: [UInt8]) throws(JetStreamError) -> (sequence: UInt64, duplicate: Bool) {
        var ack: UnsafeMutablePointer<jsPubAck>?
        var code = jsErrCode(0)
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        let status = messageID.withCString { id in
            options.MsgId = id
            return payload.withUnsafeBytes { bytes in
                js_Publish(&ack, context, subject, bytes.baseAddress, Int32(bytes.count), &options, &code)
            }
        }
        guard status == NATS_OK, let ack else { throw Self.failure(status, code, doing: "publishing to \(subject)") }
        defer { jsPubAck_Destroy(ack) }
        return (ack.pointee.Sequence, ack.pointee.Duplicate)
    }

    package func reclaimPending() -> [UInt64] {
        var list = natsMsgList()
        guard js_PublishAsyncGetPendingList(&list, context) == NATS_OK else { return [] }
        defer { natsMsgList_Destroy(&list) }
        var tokens: [UInt64] = []
        if let messages = list.Msgs {
            for index in 0..<Int(list.Count) {
                if let message = messages[index], let token = router.take(UInt(bitPattern: message)) { tokens.append(token) }
            }
        }
        return tokens
    }

    package func close() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        router.stop()
        jsCtx_Destroy(context)
        natsConnection_Destroy(connection)
        // The router is not released: a PubAck handler already running on a libnats thread
        // may still read it after `natsConnection_Destroy` returns. Stopped, it resolves
        // nothing; it costs a few bytes per connection closed (at shutdown or a reload).
    }

    // MARK: Helpers

    /// TLS for every server when the settings ask for it: the CA certificates to trust (else
    /// the system's) and the client's certificate. The library checks each server's
    /// certificate against the host of the URL it was reached by.
    private static func configureTLS(_ options: OpaquePointer, _ cluster: ClusterSettings) throws(JetStreamError) {
        guard cluster.usesTLS else { return }
        var status = natsOptions_SetSecure(options, true)
        guard status == NATS_OK else { throw JetStreamError(.refused, "TLS to the NATS servers is not available in this build of libnats") }
        // Without a CA file the library trusts OpenSSL's default paths (the system's CAs).
        if let caFile = cluster.caFile {
            status = natsOptions_LoadCATrustedCertificates(options, caFile)
            guard status == NATS_OK else { throw JetStreamError(.refused, "cannot load the CA certificates of \(caFile)") }
        }
        if let certificate = cluster.clientCertificateFile, let key = cluster.clientKeyFile {
            status = natsOptions_LoadCertificatesChain(options, certificate, key)
            guard status == NATS_OK else {
                throw JetStreamError(.refused, "cannot load the client certificate \(certificate) with its key")
            }
        }
    }

    /// A copy of `message`'s data.
    static func data(of message: OpaquePointer) -> [UInt8] {
        let length = Int(natsMsg_GetDataLength(message))
        guard length > 0, let bytes = natsMsg_GetData(message) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// Waits (blocking) until the connection is up, at most `seconds`; whether it is.
    package func waitUntilConnected(seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + BoundedTime.duration(seconds)
        while !isConnected, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return isConnected
    }

    /// libnats's last error without the source location it starts with (`(js.c:535): `).
    static func withoutSourceLocation(_ text: String) -> String {
        guard text.hasPrefix("("), let end = text.range(of: "): "), text[..<end.lowerBound].contains(".c:") else { return text }
        return String(text[end.upperBound...])
    }

    /// `body` with `strings` as a C array of C strings, valid during the call.
    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Result
    ) -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer<CChar>($0) }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress) }
    }

    /// `body` with `spec` as a libnats stream configuration, valid during the call.
    private static func withConfig(_ spec: StreamSpec, _ body: (UnsafeMutablePointer<jsStreamConfig>) -> natsStatus) -> natsStatus {
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        return spec.name.withCString { name in
            withCStrings(spec.subjects) { subjects in
                config.Name = name
                config.Subjects = subjects
                config.SubjectsLen = Int32(spec.subjects.count)
                config.MaxAge = spec.maxAgeNanoseconds
                config.MaxBytes = spec.maxBytes
                config.Duplicates = spec.duplicateWindowNanoseconds
                config.Replicas = Int64(spec.replicas)
                config.Storage = spec.fileStorage ? js_FileStorage : js_MemoryStorage
                return body(&config)
            }
        }
    }

    /// A libnats failure as a `JetStreamError`: its kind from the status and JetStream code,
    /// its words from `serverText`, or when that is nil from libnats's last error on this
    /// thread (read it only right after the failed call), with any URL's credentials removed.
    static func failure(_ status: natsStatus, _ code: jsErrCode, doing: String, serverText: String? = nil) -> JetStreamError {
        let unavailable: Set<UInt32> = [
            NATS_NO_RESPONDERS.rawValue, NATS_TIMEOUT.rawValue, NATS_CONNECTION_CLOSED.rawValue,
            NATS_CONNECTION_DISCONNECTED.rawValue, NATS_NOT_YET_CONNECTED.rawValue, NATS_NO_SERVER.rawValue,
            NATS_STALE_CONNECTION.rawValue,
        ]
        let kind: JetStreamError.Kind
        if code == JSStreamNotFoundErr {
            kind = .streamNotFound
        } else if unavailable.contains(status.rawValue) || code == JSNotEnabledErr || code == JSClusterNoPeersErr {
            // libnats reports "no responders" (a stream leader being elected) as 10076.
            kind = .unavailable
        } else {
            kind = .refused
        }
        var words = serverText ?? ""
        if serverText == nil, let last = nats_GetLastError(nil) { words = Self.withoutSourceLocation(String(cString: last)) }
        if words.isEmpty, let text = natsStatus_GetText(status) { words = String(cString: text) }
        if code.rawValue != 0 { words += " (JetStream error \(code.rawValue))" }
        return JetStreamError(kind, "\(doing): \(URLRedaction.urls(in: words))")
    }
}

/// Finds the token of an answered message by the message's address; the PubAck handler's
/// closure. Lives as long as the connection's libnats objects.
final class AnswerRouter: Sendable {
    let handler: JetStreamAnswerHandler
    private let tokens = Mutex<(byAddress: [UInt: UInt64], stopped: Bool)>(([:], false))

    init(handler: @escaping JetStreamAnswerHandler) {
        self.handler = handler
    }

    func register(_ address: UInt, _ token: UInt64) {
        tokens.withLock { $0.byAddress[address] = token }
    }

    /// The token of the message at `address`, removed; nil when unknown or after `stop()`.
    func take(_ address: UInt) -> UInt64? {
        tokens.withLock { state in state.stopped ? nil : state.byAddress.removeValue(forKey: address) }
    }

    func stop() {
        tokens.withLock { $0 = ([:], true) }
    }
}
