import SockeyeCore

/// The Sockeye envelope scanner (SockeyeCore): one pass that validates the whole frame as
/// strict JSON and returns views of the fields, allocating nothing.
enum ScannerCompetitor {
    static var competitor: Competitor {
        Competitor(
            name: Competitor.scannerName,
            detail: "EnvelopeScanner.scan: full strict validation, fields as views",
            extract: { buffer throws(BenchmarkFailure) in
                let bytes = buffer.bytes
                let envelope: Envelope
                do throws(ScanError) {
                    envelope = try EnvelopeScanner.scan(bytes)
                } catch {
                    throw BenchmarkFailure("scanner: \(error.kind) at byte \(error.offset)")
                }
                guard envelope.flags.isEmpty else {
                    throw BenchmarkFailure("scanner: fixture has anomalies \(envelope.flags)")
                }
                return try ExtractedFields(envelope, in: bytes)
            },
            run: { buffer, iterations in
                var checksum = 0
                for _ in 0..<iterations {
                    let bytes = opaque(buffer.bytes)
                    do {
                        let envelope = try EnvelopeScanner.scan(bytes)
                        checksum &+= touchFields(of: envelope)
                    } catch {
                        return -1
                    }
                }
                return checksum
            }
        )
    }

    /// Reads every field the other parsers extract (views: offset and length).
    @inline(__always)
    static func touchFields(of envelope: Envelope) -> Int {
        @inline(__always) func touch(_ view: ByteView) -> Int { view.offset &+ view.length }
        var checksum = Int(envelope.kind.rawValue)
        checksum &+= touch(envelope.type) &+ touch(envelope.envelopeID) &+ touch(envelope.payload)
        checksum &+= touch(envelope.retryReason) &+ touch(envelope.eventID) &+ touch(envelope.teamID)
        checksum &+= touch(envelope.payloadType) &+ touch(envelope.eventType)
        checksum &+= envelope.acceptsResponsePayload == true ? 1 : 0
        checksum &+= Int(truncatingIfNeeded: envelope.retryAttempt ?? -1)
        return checksum
    }
}

extension ExtractedFields {
    init(_ envelope: Envelope, in bytes: UnsafeRawBufferPointer) throws(BenchmarkFailure) {
        func text(_ view: ByteView) throws(BenchmarkFailure) -> String? {
            guard view.isPresent else { return nil }
            let raw = view.bytes(in: bytes)
            return view.isEscaped ? try unescapeJSONString(raw) : String(decoding: raw, as: UTF8.self)
        }
        self.init()
        type = try text(envelope.type)
        envelopeID = try text(envelope.envelopeID)
        if envelope.payload.isPresent {
            payload = .raw(Array(envelope.payload.bytes(in: bytes)))
        }
        acceptsResponsePayload = envelope.acceptsResponsePayload
        retryAttempt = envelope.retryAttempt
        retryReason = try text(envelope.retryReason)
        eventID = try text(envelope.eventID)
        teamID = try text(envelope.teamID)
        payloadType = try text(envelope.payloadType)
        eventType = try text(envelope.eventType)
    }
}
