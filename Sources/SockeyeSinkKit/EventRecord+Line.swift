import SockeyeCore

extension EventRecord {
    /// Why a line could not be read back into a record.
    public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The record whose normalized line is `line` (as a sink wrote it: a JSON object with
    /// `app`, `delivery`, `envelope_type`, `envelope_id`, `payload` and the optional fields),
    /// for a sink that takes events from a stream rather than from Slack. The line is kept
    /// byte for byte; `botID` and `apiAppID` are read again from the payload. The line does not
    /// say whether the envelope accepted a response payload: `acceptsResponsePayload` is as
    /// given (a stream's message says it in a header: someone waits for the answer).
    public init(line: [UInt8], acceptsResponsePayload: Bool = false) throws(LineError) {
        let members: [JSONObjectMembers.Member]
        do {
            members = try line.withUnsafeBytes { bytes throws(ScanError) in try JSONObjectMembers.read(bytes) }
        } catch {
            throw LineError(description: "not a JSON object: \(error)")
        }
        func member(_ name: String) -> JSONObjectMembers.Member? { members.first { $0.name == name } }
        func text(_ name: String) throws(LineError) -> String? {
            guard let found = member(name) else { return nil }
            if !found.isString {
                guard line[found.value.offset..<found.value.endOffset].elementsEqual("null".utf8) else {
                    throw LineError(description: "\(name) is not a string")
                }
                return nil
            }
            return line.withUnsafeBytes { JSONStringDecoder.string(found.value, in: $0) }
        }
        func required(_ name: String) throws(LineError) -> String {
            guard let value = try text(name) else { throw LineError(description: "\(name) is missing") }
            return value
        }
        guard let payload = member("payload"), !payload.isString else { throw LineError(description: "payload is missing") }
        guard let delivery = Delivery(rawValue: try required("delivery")) else { throw LineError(description: "unknown delivery") }
        app = try required("app")
        self.delivery = delivery
        envelopeType = try required("envelope_type")
        envelopeID = try required("envelope_id")
        eventType = try text("event_type")
        team = try text("team")
        channel = try text("channel")
        user = try text("user")
        eventID = try text("event_id")
        retryReason = try text("retry_reason")
        retryAttempt = member("retry_attempt").flatMap { Int(String(decoding: line[$0.value.offset..<$0.value.endOffset], as: UTF8.self)) } ?? 0
        receivedAtMilliseconds = 0
        self.acceptsResponsePayload = acceptsResponsePayload
        payloadRange = payload.value.offset..<payload.value.endOffset
        let payloadBytes = Array(line[payloadRange])
        (botID, apiAppIDView, tenant) = payloadBytes.withUnsafeBytes { bytes in
            let read = (try? PayloadFields.read(bytes)) ?? PayloadFields()
            func text(_ view: ByteView) -> String? { view.isPresent ? JSONStringDecoder.string(view, in: bytes) : nil }
            let tenant = EventTenant(enterpriseID: text(read.tenant.enterpriseID), teamID: text(read.tenant.teamID),
                                     isEnterpriseInstall: read.tenant.isEnterpriseInstall)
            return (text(read.botID), read.apiAppID, tenant)
        }
        // A line written for an app installed by OAuth names its installation; the worker
        // that reads it does not authorize again (its bot identity is not in the line).
        let installation = try text("installation")
        needsAuthorization = member("installation") != nil
        authorization = installation.map { EventAuthorization(installationID: $0, botUserID: nil, botID: nil) }
        self.line = line
    }
}
