/// Scans one Socket Mode frame: validates it as strict JSON and extracts the fields the
/// core needs, in one pass, without allocating.
///
/// ```swift
/// let envelope = try frame.withUnsafeBytes { try EnvelopeScanner.scan($0) }
/// if envelope.needsAck { … envelope.envelopeID.bytes(in: buffer) … }
/// ```
///
/// Members may come in any order; unknown members are validated and skipped. See
/// `Envelope` for the rule on duplicate keys and mistyped fields, and `ScanError` for
/// errors. Thread-safe: it keeps no state.
public enum EnvelopeScanner {
    /// Scans `buffer` as one Socket Mode message.
    @inlinable
    public static func scan(_ buffer: UnsafeRawBufferPointer, options: ScanOptions = .default) throws(ScanError) -> Envelope {
        var cursor = try JSONCursor(frame: buffer, options: options)
        var walker = EnvelopeWalker()
        return try walker.scan(&cursor)
    }
}

/// The state of one envelope scan: what was found so far. Internal to the scanner.
@usableFromInline
struct EnvelopeWalker {
    @usableFromInline var envelope = Envelope()
    /// `type` / `envelope_id` were present with a non-string value (last occurrence wins).
    @usableFromInline var typeWrong = false
    @usableFromInline var typeOffset = 0
    @usableFromInline var idWrong = false
    @usableFromInline var idOffset = 0
    /// `payload.team_id` and `payload.team.id`; `teamID` prefers the first.
    @usableFromInline var payloadTeamID = ByteView.absent
    @usableFromInline var payloadTeamDotID = ByteView.absent
    @usableFromInline var seen: UInt32 = 0

    @inlinable init() {}

    @inlinable
    mutating func scan(_ cursor: inout JSONCursor) throws(ScanError) -> Envelope {
        let rootOffset = try cursor.rootObjectOffset()
        try cursor.scanMembers(depth: 1) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
            try self.envelopeMember(key, &cursor)
        }
        try cursor.expectEnd()
        return try finish(rootOffset: rootOffset, base: cursor.base)
    }

    @inlinable @inline(__always)
    mutating func markSeen(_ bit: UInt32) {
        if seen & bit != 0 { envelope.flags.insert(.duplicateKey) }
        seen |= bit
    }

    /// One member of the top-level object.
    @inlinable
    mutating func envelopeMember(_ key: ByteView, _ cursor: inout JSONCursor) throws(ScanError) {
        let field = KeyMatching.withName(key, base: cursor.base) { EnvelopeField(name: $0) }
        cursor.skipWhitespace()
        let valueOffset = cursor.index
        switch field {
        case .type:
            markSeen(1 << 0)
            typeOffset = valueOffset
            envelope.type = try stringValue(&cursor, depth: 1)
            typeWrong = !envelope.type.isPresent
        case .envelopeID:
            markSeen(1 << 1)
            idOffset = valueOffset
            envelope.envelopeID = try stringValue(&cursor, depth: 1)
            idWrong = !envelope.envelopeID.isPresent
        case .payload:
            markSeen(1 << 2)
            envelope.eventID = .absent
            envelope.payloadType = .absent
            envelope.eventType = .absent
            payloadTeamID = .absent
            payloadTeamDotID = .absent
            if try cursor.peek() == 0x7B {
                try cursor.scanMembers(depth: 2) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
                    try self.payloadMember(key, &cursor)
                }
            } else {
                try cursor.skipValue(depth: 1)
            }
            envelope.payload = ByteView(offset: valueOffset, length: cursor.index - valueOffset)
        case .acceptsResponsePayload:
            markSeen(1 << 3)
            envelope.acceptsResponsePayload = try boolValue(&cursor, depth: 1)
        case .retryAttempt:
            markSeen(1 << 4)
            envelope.retryAttempt = try integerValue(&cursor, depth: 1)
        case .retryReason:
            markSeen(1 << 5)
            envelope.retryReason = try stringValue(&cursor, depth: 1)
        case .numConnections:
            markSeen(1 << 6)
            envelope.numConnections = try integerValue(&cursor, depth: 1)
        case .reason:
            markSeen(1 << 7)
            envelope.reason = try stringValue(&cursor, depth: 1)
        case .connectionInfo:
            markSeen(1 << 8)
            envelope.appID = .absent
            try objectValue(&cursor, depth: 1) { (walker: inout EnvelopeWalker, cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
                let isAppID = KeyMatching.withName(key, base: cursor.base) { KeyMatching.equals($0, "app_id") }
                if isAppID {
                    walker.markSeen(1 << 9)
                    walker.envelope.appID = try walker.stringValue(&cursor, depth: 2)
                } else {
                    try cursor.skipValue(depth: 2)
                }
            }
        case .debugInfo:
            markSeen(1 << 10)
            envelope.debugHost = .absent
            envelope.buildNumber = nil
            envelope.approximateConnectionTime = nil
            try objectValue(&cursor, depth: 1) { (walker: inout EnvelopeWalker, cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
                let field = KeyMatching.withName(key, base: cursor.base) { DebugInfoField(name: $0) }
                switch field {
                case .host:
                    walker.markSeen(1 << 11)
                    walker.envelope.debugHost = try walker.stringValue(&cursor, depth: 2)
                case .buildNumber:
                    walker.markSeen(1 << 12)
                    walker.envelope.buildNumber = try walker.integerValue(&cursor, depth: 2)
                case .approximateConnectionTime:
                    walker.markSeen(1 << 13)
                    walker.envelope.approximateConnectionTime = try walker.integerValue(&cursor, depth: 2)
                case nil:
                    try cursor.skipValue(depth: 2)
                }
            }
        case nil:
            try cursor.skipValue(depth: 1)
        }
    }

    /// One member of the `payload` object.
    @inlinable
    mutating func payloadMember(_ key: ByteView, _ cursor: inout JSONCursor) throws(ScanError) {
        let field = KeyMatching.withName(key, base: cursor.base) { PayloadField(name: $0) }
        switch field {
        case .eventID:
            markSeen(1 << 14)
            envelope.eventID = try stringValue(&cursor, depth: 2)
        case .teamID:
            markSeen(1 << 15)
            payloadTeamID = try stringValue(&cursor, depth: 2)
        case .type:
            markSeen(1 << 16)
            envelope.payloadType = try stringValue(&cursor, depth: 2)
        case .event:
            markSeen(1 << 17)
            envelope.eventType = .absent
            try objectValue(&cursor, depth: 2) { (walker: inout EnvelopeWalker, cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
                if KeyMatching.withName(key, base: cursor.base, { KeyMatching.equals($0, "type") }) {
                    walker.markSeen(1 << 18)
                    walker.envelope.eventType = try walker.stringValue(&cursor, depth: 3)
                } else {
                    try cursor.skipValue(depth: 3)
                }
            }
        case .team:
            markSeen(1 << 19)
            payloadTeamDotID = .absent
            try objectValue(&cursor, depth: 2) { (walker: inout EnvelopeWalker, cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
                if KeyMatching.withName(key, base: cursor.base, { KeyMatching.equals($0, "id") }) {
                    walker.markSeen(1 << 20)
                    walker.payloadTeamDotID = try walker.stringValue(&cursor, depth: 3)
                } else {
                    try cursor.skipValue(depth: 3)
                }
            }
        case nil:
            try cursor.skipValue(depth: 2)
        }
    }

    // MARK: Typed values; a value of another JSON type is validated, skipped and flagged.

    @inlinable
    mutating func stringValue(_ cursor: inout JSONCursor, depth: Int) throws(ScanError) -> ByteView {
        cursor.skipWhitespace()
        if try cursor.peek() == 0x22 { return try cursor.scanString() }
        try cursor.skipValue(depth: depth)
        envelope.flags.insert(.fieldTypeMismatch)
        return .absent
    }

    @inlinable
    mutating func boolValue(_ cursor: inout JSONCursor, depth: Int) throws(ScanError) -> Bool? {
        cursor.skipWhitespace()
        let byte = try cursor.peek()
        if byte == 0x74 || byte == 0x66 { return try cursor.scanLiteral() }
        try cursor.skipValue(depth: depth)
        envelope.flags.insert(.fieldTypeMismatch)
        return nil
    }

    @inlinable
    mutating func integerValue(_ cursor: inout JSONCursor, depth: Int) throws(ScanError) -> Int64? {
        cursor.skipWhitespace()
        let byte = try cursor.peek()
        if byte == 0x2D || (byte >= 0x30 && byte <= 0x39) {
            if let value = try cursor.scanNumber() { return value }
        } else {
            try cursor.skipValue(depth: depth)
        }
        envelope.flags.insert(.fieldTypeMismatch)
        return nil
    }

    /// Walks an object value with `member`, or validates, skips and flags a non-object.
    @inlinable
    mutating func objectValue(
        _ cursor: inout JSONCursor, depth: Int,
        _ member: (inout EnvelopeWalker, inout JSONCursor, ByteView) throws(ScanError) -> Void
    ) throws(ScanError) {
        cursor.skipWhitespace()
        guard try cursor.peek() == 0x7B else {
            try cursor.skipValue(depth: depth)
            envelope.flags.insert(.fieldTypeMismatch)
            return
        }
        try cursor.scanMembers(depth: depth + 1) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
            try member(&self, &cursor, key)
        }
    }

    // MARK: Classification

    @inlinable
    mutating func finish(rootOffset: Int, base: UnsafePointer<UInt8>) throws(ScanError) -> Envelope {
        if typeWrong { throw ScanError(.fieldType, at: typeOffset) }
        guard envelope.type.isPresent else { throw ScanError(.missingType, at: rootOffset) }
        if idWrong { throw ScanError(.fieldType, at: idOffset) }
        envelope.kind = KeyMatching.withName(envelope.type, base: base) { MessageKind(typeName: $0) }
        if envelope.kind != .unknown && envelope.kind.isEnvelope && !envelope.envelopeID.isPresent {
            throw ScanError(.missingEnvelopeID, at: rootOffset)
        }
        envelope.teamID = payloadTeamID.isPresent ? payloadTeamID : payloadTeamDotID
        if envelope.kind == .disconnect {
            envelope.disconnectReason =
                envelope.reason.isPresent
                ? KeyMatching.withName(envelope.reason, base: base) { DisconnectReason(reasonName: $0) }
                : .none
        }
        return envelope
    }
}

// MARK: Names

@usableFromInline
enum EnvelopeField {
    case type, envelopeID, payload, acceptsResponsePayload, retryAttempt, retryReason
    case numConnections, reason, connectionInfo, debugInfo

    @inlinable @inline(__always)
    init?(name: UnsafeRawBufferPointer) {
        switch name.count {
        case 4 where KeyMatching.equals(name, "type"): self = .type
        case 6 where KeyMatching.equals(name, "reason"): self = .reason
        case 7 where KeyMatching.equals(name, "payload"): self = .payload
        case 10 where KeyMatching.equals(name, "debug_info"): self = .debugInfo
        case 11 where KeyMatching.equals(name, "envelope_id"): self = .envelopeID
        case 12 where KeyMatching.equals(name, "retry_reason"): self = .retryReason
        case 13 where KeyMatching.equals(name, "retry_attempt"): self = .retryAttempt
        case 15 where KeyMatching.equals(name, "num_connections"): self = .numConnections
        case 15 where KeyMatching.equals(name, "connection_info"): self = .connectionInfo
        case 24 where KeyMatching.equals(name, "accepts_response_payload"): self = .acceptsResponsePayload
        default: return nil
        }
    }
}

@usableFromInline
enum PayloadField {
    case eventID, teamID, type, event, team

    @inlinable @inline(__always)
    init?(name: UnsafeRawBufferPointer) {
        switch name.count {
        case 4 where KeyMatching.equals(name, "type"): self = .type
        case 4 where KeyMatching.equals(name, "team"): self = .team
        case 5 where KeyMatching.equals(name, "event"): self = .event
        case 7 where KeyMatching.equals(name, "team_id"): self = .teamID
        case 8 where KeyMatching.equals(name, "event_id"): self = .eventID
        default: return nil
        }
    }
}

@usableFromInline
enum DebugInfoField {
    case host, buildNumber, approximateConnectionTime

    @inlinable @inline(__always)
    init?(name: UnsafeRawBufferPointer) {
        if KeyMatching.equals(name, "host") {
            self = .host
        } else if KeyMatching.equals(name, "build_number") {
            self = .buildNumber
        } else if KeyMatching.equals(name, "approximate_connection_time") {
            self = .approximateConnectionTime
        } else {
            return nil
        }
    }
}

extension MessageKind {
    /// The kind for a decoded `type` string.
    @inlinable
    init(typeName name: UnsafeRawBufferPointer) {
        if KeyMatching.equals(name, "events_api") {
            self = .eventsAPI
        } else if KeyMatching.equals(name, "interactive") {
            self = .interactive
        } else if KeyMatching.equals(name, "slash_commands") {
            self = .slashCommands
        } else if KeyMatching.equals(name, "hello") {
            self = .hello
        } else if KeyMatching.equals(name, "disconnect") {
            self = .disconnect
        } else {
            self = .unknown
        }
    }
}

extension DisconnectReason {
    /// The reason for a decoded `reason` string.
    @inlinable
    init(reasonName name: UnsafeRawBufferPointer) {
        if KeyMatching.equals(name, "warning") {
            self = .warning
        } else if KeyMatching.equals(name, "refresh_requested") {
            self = .refreshRequested
        } else if KeyMatching.equals(name, "link_disabled") {
            self = .linkDisabled
        } else if KeyMatching.equals(name, "too_many_websockets") {
            self = .tooManyWebsockets
        } else {
            self = .unknown
        }
    }
}
