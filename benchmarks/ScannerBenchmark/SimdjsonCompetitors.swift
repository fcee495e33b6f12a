import CSimdjsonShim

/// simdjson through the C++ shim in benchmarks/CSimdjsonShim. The parser objects are made once
/// and reused, as a real client would; their first parse allocates, later ones do not.
final class SimdjsonParsers {
    let onDemand: OpaquePointer
    let dom: OpaquePointer

    init() {
        onDemand = sockeye_bench_ondemand_create()
        dom = sockeye_bench_dom_create()
    }

    deinit {
        sockeye_bench_ondemand_destroy(onDemand)
        sockeye_bench_dom_destroy(dom)
    }

    static var padding: Int { sockeye_bench_simdjson_padding() }
    static var implementation: String { String(cString: sockeye_bench_simdjson_implementation()) }
    static var builtinImplementation: String {
        String(cString: sockeye_bench_simdjson_builtin_implementation())
    }

    /// One of the shim's extraction functions: parser, JSON, length, readable capacity, out.
    typealias Extraction = (OpaquePointer?, UnsafePointer<CChar>?, Int, Int, UnsafeMutablePointer<sockeye_bench_fields>?) -> Int32

    var competitors: [Competitor] {
        [
            Self.competitor(
                Competitor.onDemandName, api: "on-demand", parser: onDemand, rawStrings: true,
                detail: "one walk over the members; strings as raw views, payload via raw_json()",
                extraction: sockeye_bench_ondemand_extract),
            Self.competitor(
                Competitor.onDemandLookupName, api: "on-demand lookups", parser: onDemand, rawStrings: false,
                detail: "doc[\"key\"] lookups in any order, get_string() copies, payload via raw_json()",
                extraction: sockeye_bench_ondemand_lookup_extract),
            Self.competitor(
                Competitor.domName, api: "DOM", parser: dom, rawStrings: false,
                detail: "full parse and validation into the tape, then field lookups",
                extraction: sockeye_bench_dom_extract),
        ]
    }

    /// A competitor that calls `extraction` with `parser` on the padded fixture.
    private static func competitor(
        _ name: String, api: String, parser: OpaquePointer, rawStrings: Bool, detail: String,
        extraction: @escaping Extraction
    ) -> Competitor {
        Competitor(
            name: name,
            detail: detail,
            extract: { buffer throws(BenchmarkFailure) in
                var fields = sockeye_bench_fields()
                let code = extraction(parser, buffer.charPointer, buffer.count, buffer.capacity, &fields)
                guard code == 0 else { throw failure(code, api) }
                return try ExtractedFields(fields, rawStrings: rawStrings)
            },
            run: { buffer, iterations in
                var fields = sockeye_bench_fields()
                var checksum = 0
                for _ in 0..<iterations {
                    let bytes = opaque(buffer.bytes)
                    let code = extraction(
                        parser, bytes.baseAddress!.assumingMemoryBound(to: CChar.self),
                        bytes.count, buffer.capacity, &fields)
                    checksum &+= Int(code) &+ fields.checksum
                }
                return checksum
            }
        )
    }

    private static func failure(_ code: Int32, _ api: String) -> BenchmarkFailure {
        BenchmarkFailure("simdjson \(api): \(String(cString: sockeye_bench_simdjson_error_message(code)))")
    }
}

extension sockeye_bench_fields {
    /// Touches every extracted field cheaply (lengths, flags) for the loop's checksum.
    var checksum: Int {
        type.length &+ envelope_id.length &+ payload.length &+ retry_reason.length
            &+ event_id.length &+ team_id.length &+ payload_type.length &+ event_type.length
            &+ Int(accepts_response_payload) &+ Int(truncatingIfNeeded: retry_attempt)
    }
}

extension ExtractedFields {
    /// - Parameter rawStrings: strings are escaped views into the input (on-demand) rather than
    ///   unescaped copies (DOM).
    init(_ fields: sockeye_bench_fields, rawStrings: Bool) throws(BenchmarkFailure) {
        func text(_ string: sockeye_bench_string) throws(BenchmarkFailure) -> String? {
            guard string.present != 0 else { return nil }
            let bytes = UnsafeRawBufferPointer(start: string.data, count: string.length)
            return rawStrings ? try unescapeJSONString(bytes) : String(decoding: bytes, as: UTF8.self)
        }
        self.init()
        type = try text(fields.type)
        envelopeID = try text(fields.envelope_id)
        if fields.payload.present != 0 {
            if let data = fields.payload.data {
                payload = .raw(Array(UnsafeRawBufferPointer(start: data, count: fields.payload.length)))
            } else {
                payload = .object
            }
        }
        acceptsResponsePayload = fields.accepts_response_payload < 0 ? nil : fields.accepts_response_payload != 0
        retryAttempt = fields.retry_attempt_present != 0 ? fields.retry_attempt : nil
        retryReason = try text(fields.retry_reason)
        eventID = try text(fields.event_id)
        teamID = try text(fields.team_id)
        payloadType = try text(fields.payload_type)
        eventType = try text(fields.event_type)
    }
}
