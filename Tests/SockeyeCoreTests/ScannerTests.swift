import SockeyeCore
import Testing

/// Every field and kind the envelope scanner extracts, on real captured frames and edge cases.
@Suite("EnvelopeScanner fields and kinds")
struct ScannerTests {
    // MARK: Real frames (docs/protocol.md, Envelopes)

    @Test("hello captured in bolt-js#1061: every hello field, no ack")
    func helloCapture() throws {
        let s = try scan(
            #"{"type":"hello","num_connections":2,"debug_info":{"host":"applink-d85c5c684-k8lpq","build_number":18,"approximate_connection_time":18060},"connection_info":{"app_id":"A028U9TTUG1"}}"#
        )
        let e = s.envelope
        #expect(e.kind == .hello)
        #expect(s.string(e.type) == "hello")
        #expect(e.numConnections == 2)
        #expect(s.string(e.debugHost) == "applink-d85c5c684-k8lpq")
        #expect(e.buildNumber == 18)
        #expect(e.approximateConnectionTime == 18060)
        #expect(s.string(e.appID) == "A028U9TTUG1")
        #expect(!e.envelopeID.isPresent && !e.payload.isPresent && !e.needsAck)
        #expect(e.flags.isEmpty)
        #expect(e.disconnectReason == .none)
    }

    @Test("hello from the docs, pretty-printed with an extra debug_info.started")
    func helloDocs() throws {
        let s = try scan(
            """
            {
              "type": "hello",
              "num_connections": 1,
              "connection_info": { "app_id": "A0123ABCD" },
              "debug_info": {
                "host": "applink-7fc4fdbb64-4x5xq",
                "started": "2020-10-11 12:12:12.120",
                "build_number": 54,
                "approximate_connection_time": 3600
              }
            }
            """)
        #expect(s.envelope.kind == .hello)
        #expect(s.string(s.envelope.appID) == "A0123ABCD")
        #expect(s.envelope.buildNumber == 54 && s.envelope.approximateConnectionTime == 3600)
        #expect(s.envelope.flags.isEmpty)
    }

    @Test(
        "disconnect: each reason is classified",
        arguments: [
            ("warning", DisconnectReason.warning), ("refresh_requested", .refreshRequested),
            ("link_disabled", .linkDisabled), ("too_many_websockets", .tooManyWebsockets),
            ("app_deactivated", .unknown), ("", .unknown), ("Warning", .unknown), ("warning ", .unknown),
        ])
    func disconnectReasons(reason: String, expected: DisconnectReason) throws {
        let s = try scan(#"{ "type": "disconnect", "reason": ""# + reason + #"", "debug_info": { "host": "wss-111.slack.com" } }"#)
        #expect(s.envelope.kind == .disconnect)
        #expect(s.envelope.disconnectReason == expected)
        #expect(s.string(s.envelope.reason) == reason)
        #expect(s.string(s.envelope.debugHost) == "wss-111.slack.com")
        #expect(!s.envelope.needsAck)
    }

    @Test("disconnect reason written with escapes is classified by its decoded value")
    func disconnectReasonEscaped() throws {
        let s = try scan(#"{"type":"disconnect","reason":"link\u005fdisabled"}"#)
        #expect(s.envelope.disconnectReason == .linkDisabled)
        #expect(s.envelope.reason.isEscaped)
    }

    @Test("too_many_websockets with the mock's extra num_connections and connection_info")
    func disconnectVariant() throws {
        let s = try scan(#"{"type":"disconnect","reason":"too_many_websockets","num_connections":10,"connection_info":{"app_id":"A111"}}"#)
        #expect(s.envelope.disconnectReason == .tooManyWebsockets)
        #expect(s.envelope.numConnections == 10)
        #expect(s.string(s.envelope.appID) == "A111")
    }

    @Test("disconnect without a string reason has no reason; a reason on another kind is not classified")
    func disconnectWithoutReason() throws {
        #expect(try scan(#"{"type":"disconnect"}"#).envelope.disconnectReason == .none)
        let wrong = try scan(#"{"type":"disconnect","reason":1}"#).envelope
        #expect(wrong.disconnectReason == .none && wrong.flags.contains(.fieldTypeMismatch))
        let hello = try scan(#"{"type":"hello","reason":"warning"}"#)
        #expect(hello.envelope.disconnectReason == .none)
        #expect(hello.string(hello.envelope.reason) == "warning")
    }

    static let eventsAPIExample = """
        {
          "envelope_id": "cda4159a-72a5-4744-aba3-4d66eb52682b",
          "type": "events_api",
          "accepts_response_payload": false,
          "retry_attempt": 0,
          "retry_reason": "",
          "payload": {
            "token": "legacy-verification-token",
            "team_id": "T111",
            "api_app_id": "A111",
            "type": "event_callback",
            "event_id": "Ev111",
            "event_time": 1610241741,
            "event_context": "1-app_mention-T111-C111",
            "is_ext_shared_channel": false,
            "authorizations": [ { "enterprise_id": null, "team_id": "T111", "user_id": "U0BOT", "is_bot": true, "is_enterprise_install": false } ],
            "event": { "type": "app_mention", "user": "U222", "text": "<@U0BOT> hi", "ts": "1610241741.000200", "channel": "C111", "event_ts": "1610241741.000200" }
          }
        }
        """

    @Test("events_api example: id, payload, retry fields, event id, team, payload and event types")
    func eventsAPI() throws {
        let s = try scan(Self.eventsAPIExample)
        let e = s.envelope
        #expect(e.kind == .eventsAPI && e.needsAck)
        #expect(s.string(e.envelopeID) == "cda4159a-72a5-4744-aba3-4d66eb52682b")
        #expect(e.acceptsResponsePayload == false)
        #expect(e.retryAttempt == 0)
        #expect(e.retryReason.isPresent && e.retryReason.length == 0 && s.string(e.retryReason) == "")
        #expect(s.string(e.eventID) == "Ev111")
        #expect(s.string(e.teamID) == "T111")
        #expect(s.string(e.payloadType) == "event_callback")
        #expect(s.string(e.eventType) == "app_mention")
        // Nested "team_id" and "type" members deeper in the payload are not taken.
        #expect(e.flags.isEmpty)
        let payload = s.raw(e.payload)
        #expect(payload.hasPrefix("{\n    \"token\"") && payload.hasSuffix("}\n  }"))
    }

    @Test("events_api retry: retry_attempt and retry_reason \"timeout\"")
    func eventsAPIRetry() throws {
        let s = try scan(#"{"envelope_id":"e","type":"events_api","retry_attempt":3,"retry_reason":"timeout","payload":{}}"#)
        #expect(s.envelope.retryAttempt == 3)
        #expect(s.string(s.envelope.retryReason) == "timeout")
    }

    @Test("app_rate_limited without inner event: payload type set, no event type, no flag")
    func appRateLimited() throws {
        let s = try scan(
            #"{"envelope_id":"e2","type":"events_api","accepts_response_payload":false,"payload":{"type":"app_rate_limited","token":"t","team_id":"T111","minute_rate_limited":1518467820,"api_app_id":"A111"}}"#
        )
        #expect(s.string(s.envelope.payloadType) == "app_rate_limited")
        #expect(!s.envelope.eventType.isPresent && !s.envelope.eventID.isPresent)
        #expect(s.string(s.envelope.teamID) == "T111")
        #expect(s.envelope.flags.isEmpty)
    }

    @Test("slash_commands example")
    func slashCommands() throws {
        let s = try scan(
            #"{"envelope_id":"1d3c79ab-0ffb-41f3-a080-d19e85f53649","type":"slash_commands","accepts_response_payload":true,"payload":{"token":"legacy-verification-token","team_id":"T111","team_domain":"acme","channel_id":"C111","channel_name":"random","user_id":"U111","user_name":"jo","command":"/deploy","text":"api prod","api_app_id":"A111","response_url":"https://hooks.slack.com/commands/T111/111/xxx","trigger_id":"111.222.xxx"}}"#
        )
        #expect(s.envelope.kind == .slashCommands && s.envelope.needsAck)
        #expect(s.envelope.acceptsResponsePayload == true)
        #expect(s.string(s.envelope.teamID) == "T111")
        #expect(!s.envelope.payloadType.isPresent && !s.envelope.retryAttempt.isPresentValue)
    }

    @Test("interactive shortcut: team id from payload.team.id, payload type")
    func interactiveShortcut() throws {
        let s = try scan(
            #"{ "envelope_id": "57d6a792-1", "type": "interactive", "accepts_response_payload": false, "payload": { "type": "shortcut", "callback_id": "do-something", "trigger_id": "111.222.xxx", "action_ts": "1610198080.300836", "team": {"id":"T111","domain":"acme"}, "user": {"id":"U111","username":"jo","team_id":"T999"}, "is_enterprise_install": false, "enterprise": null, "token": "x" } }"#
        )
        #expect(s.envelope.kind == .interactive)
        #expect(s.string(s.envelope.teamID) == "T111")
        #expect(s.string(s.envelope.payloadType) == "shortcut")
        #expect(s.envelope.flags.isEmpty)
    }

    @Test("interactive view_submission and block_suggestion")
    func interactiveViews() throws {
        let submission = try scan(
            #"{ "envelope_id": "dbdd0ef3-2", "type": "interactive", "accepts_response_payload": true, "payload": { "type": "view_submission", "team": {"id":"T111"}, "user": {"id":"U111"}, "view": { "id": "V123", "type": "modal", "callback_id": "modal-with-inputs", "private_metadata": "", "hash": "156663117.cd33ad1f", "state": { "values": { "multi-line": { "ml-value": { "type": "plain_text_input", "value": "hello" } } } } } } }"#
        )
        #expect(submission.string(submission.envelope.payloadType) == "view_submission")
        #expect(submission.string(submission.envelope.teamID) == "T111")
        #expect(submission.envelope.acceptsResponsePayload == true)
        let suggestion = try scan(
            #"{ "envelope_id": "e3", "type": "interactive", "accepts_response_payload": true, "payload": { "type": "block_suggestion", "action_id": "search-action", "block_id": "search-block", "value": "an", "user": {"id":"U111"}, "team": {"id":"T111"}, "view": {"id":"V111","type":"modal","callback_id":"view-id"} } }"#
        )
        #expect(suggestion.string(suggestion.envelope.payloadType) == "block_suggestion")
        #expect(suggestion.string(suggestion.envelope.envelopeID) == "e3")
    }

    @Test("payload.team_id wins over payload.team.id, in either order")
    func teamIDPreference() throws {
        let after = try scan(#"{"type":"x","payload":{"team":{"id":"T2"},"team_id":"T1"}}"#)
        #expect(after.string(after.envelope.teamID) == "T1")
        let s = try scan(#"{"type":"x","payload":{"team_id":"T1","team":{"id":"T2"}}}"#)
        #expect(s.string(s.envelope.teamID) == "T1")
        let fallback = try scan(#"{"type":"x","payload":{"team_id":null,"team":{"id":"T2"}}}"#)
        #expect(fallback.string(fallback.envelope.teamID) == "T2")
        #expect(fallback.envelope.flags.contains(.fieldTypeMismatch))
    }

    // MARK: Kinds

    @Test(
        "the kind comes from the decoded type",
        arguments: [
            ("hello", MessageKind.hello), ("disconnect", .disconnect), ("events_api", .eventsAPI),
            ("slash_commands", .slashCommands), ("interactive", .interactive), ("events\\u005fapi", .eventsAPI),
            ("\\u0068ello", .hello), ("Hello", .unknown), ("events_api ", .unknown), ("", .unknown),
            ("hello\\u0000", .unknown), ("interactive_message", .unknown),
        ])
    func kinds(type: String, kind: MessageKind) throws {
        let s = try scan(#"{"type":""# + type + #"","envelope_id":"e"}"#)
        #expect(s.envelope.kind == kind)
    }

    @Test("an unknown type with an envelope_id needs an ack; without one it is still accepted")
    func unknownType() throws {
        let withID = try scan(#"{"type":"future_type","envelope_id":"e4","payload":[1,2,3]}"#)
        #expect(withID.envelope.kind == .unknown && withID.envelope.needsAck)
        #expect(withID.raw(withID.envelope.payload) == "[1,2,3]")
        let withoutID = try scan(#"{"type":"future_type"}"#)
        #expect(withoutID.envelope.kind == .unknown && !withoutID.envelope.needsAck)
    }

    @Test("needsAck only for envelope kinds with an id", arguments: MessageKind.allCases)
    func needsAck(kind: MessageKind) {
        var envelope = Envelope()
        envelope.kind = kind
        #expect(!envelope.needsAck)
        envelope.envelopeID = ByteView(offset: 0, length: 1)
        #expect(envelope.needsAck == (kind != .hello && kind != .disconnect))
    }

    // MARK: Views and escapes

    @Test("envelope_id with escapes is flagged escaped and decodes")
    func escapedEnvelopeID() throws {
        let s = try scan(#"{"type":"events_api","envelope_id":"a\"b\\c\/d\u00e9\ud83d\ude00\n","payload":{}}"#)
        #expect(s.envelope.envelopeID.isEscaped)
        #expect(s.raw(s.envelope.envelopeID) == #"a\"b\\c\/d\u00e9\ud83d\ude00\n"#)
        #expect(s.string(s.envelope.envelopeID) == "a\"b\\c/dé😀\n")
    }

    @Test("an unescaped string view is not flagged and covers exactly the bytes between the quotes")
    func plainView() throws {
        let s = try scan(#"{"type":"events_api","envelope_id":"é中😀-1","payload":{}}"#)
        #expect(!s.envelope.envelopeID.isEscaped)
        #expect(s.envelope.envelopeID.offset == 36)
        #expect(s.raw(s.envelope.envelopeID) == "é中😀-1")
        #expect(!s.envelope.type.isEscaped && s.envelope.type.offset == 9 && s.envelope.type.length == 10)
    }

    @Test("keys written with escapes are recognised")
    func escapedKeys() throws {
        let s = try scan(
            #"{"\u0074ype":"events_api","envelope\u005fid":"e","pay\u006coad":{"event\u005Fid":"Ev1","\u0074eam_id":"T1","ev\u0065nt":{"typ\u0065":"message"}},"retry\u005fattempt":2}"#
        )
        #expect(s.string(s.envelope.envelopeID) == "e")
        #expect(s.string(s.envelope.eventID) == "Ev1")
        #expect(s.string(s.envelope.teamID) == "T1")
        #expect(s.string(s.envelope.eventType) == "message")
        #expect(s.envelope.retryAttempt == 2)
    }

    @Test("a key that only resembles a field is ignored (prefix, case, NUL, long escaped key)")
    func nearMissKeys() throws {
        let s = try scan(
            #"{"type":"hello","envelope_idx":"a","Envelope_id":"b","envelope_id\u0000":"c","num_connection":1,"\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065\u0065":1}"#
        )
        #expect(!s.envelope.envelopeID.isPresent)
        #expect(s.envelope.numConnections == nil)
        #expect(s.envelope.flags.isEmpty)
    }

    @Test("the payload view covers the whole value, without the whitespace around it")
    func payloadView() throws {
        let s = try scan("{\"type\":\"x\",\"payload\" :\n\t {\"a\":[1,{\"b\":\"}\"}]} \r\n}")
        #expect(s.raw(s.envelope.payload) == "{\"a\":[1,{\"b\":\"}\"}]}")
        let scalar = try scan(#"{"type":"x","payload":-12.5e3}"#)
        #expect(scalar.raw(scalar.envelope.payload) == "-12.5e3")
        #expect(scalar.envelope.flags.isEmpty)
    }

    @Test("whitespace of all four kinds is accepted around every token")
    func whitespace() throws {
        let s = try scan(" \t\r\n{ \t\r\n\"type\" \t\r\n: \t\r\n\"hello\" \t\r\n, \"num_connections\"\n:\n7\n} \t\r\n")
        #expect(s.envelope.kind == .hello && s.envelope.numConnections == 7)
        #expect(scanError("\u{0B}{\"type\":\"hello\"}") == ScanError(.unexpectedByte, at: 0))
        #expect(scanError("{\"type\":\"hello\"}\u{0C}") == ScanError(.trailingData, at: 16))
    }

    // MARK: Duplicates

    @Test("duplicate envelope_id: the last wins and the flag is set")
    func duplicateEnvelopeID() throws {
        let s = try scan(#"{"type":"events_api","envelope_id":"first","payload":{},"envelope_id":"second"}"#)
        #expect(s.string(s.envelope.envelopeID) == "second")
        #expect(s.envelope.flags.contains(.duplicateKey))
    }

    @Test("duplicate type: the last wins, whether the earlier one was a string or not")
    func duplicateType() throws {
        let s = try scan(#"{"type":"hello","type":"disconnect","reason":"warning"}"#)
        #expect(s.envelope.kind == .disconnect && s.envelope.flags.contains(.duplicateKey))
        #expect(try scan(#"{"type":1,"type":"hello"}"#).envelope.kind == .hello)
        #expect(scanError(#"{"type":"hello","type":1}"#) == ScanError(.fieldType, at: 23))
        #expect(scanError(#"{"type":"events_api","envelope_id":"e","envelope_id":null}"#) == ScanError(.fieldType, at: 53))
        #expect(try scan(#"{"type":"events_api","envelope_id":null,"envelope_id":"e"}"#).envelope.needsAck)
    }

    @Test("duplicate payload: fields of the earlier payload do not leak into the result")
    func duplicatePayload() throws {
        let s = try scan(
            #"{"type":"events_api","envelope_id":"e","payload":{"event_id":"Ev1","team_id":"T1","type":"event_callback","event":{"type":"message"},"team":{"id":"T9"}},"payload":{"x":1}}"#
        )
        #expect(s.raw(s.envelope.payload) == #"{"x":1}"#)
        #expect(!s.envelope.eventID.isPresent && !s.envelope.teamID.isPresent)
        #expect(!s.envelope.payloadType.isPresent && !s.envelope.eventType.isPresent)
        #expect(s.envelope.flags.contains(.duplicateKey))
        let scalar = try scan(#"{"type":"x","payload":{"event_id":"Ev1"},"payload":null}"#)
        #expect(!scalar.envelope.eventID.isPresent && scalar.raw(scalar.envelope.payload) == "null")
    }

    @Test("duplicate nested members: the last event type, team id and app id win")
    func duplicateNested() throws {
        let s = try scan(
            #"{"type":"hello","connection_info":{"app_id":"A1","app_id":"A2"},"debug_info":{"host":"h1"},"debug_info":{"build_number":5},"payload":{"event":{"type":"a","type":"b"},"team":{"id":"T1"},"team":{"x":1}}}"#
        )
        #expect(s.string(s.envelope.appID) == "A2")
        #expect(!s.envelope.debugHost.isPresent && s.envelope.buildNumber == 5)
        #expect(s.string(s.envelope.eventType) == "b")
        #expect(!s.envelope.teamID.isPresent)
        #expect(s.envelope.flags.contains(.duplicateKey))
    }

    @Test("a repeated unknown key is not a duplicate of interest")
    func duplicateUnknownKey() throws {
        let s = try scan(#"{"type":"hello","x":1,"x":2,"payload":{"y":1,"y":2}}"#)
        #expect(s.envelope.flags.isEmpty)
    }

    // MARK: Wrong types and integers

    @Test(
        "a recognised field with the wrong JSON type is absent and flagged",
        arguments: [
            #""accepts_response_payload":"true""#, #""accepts_response_payload":null"#, #""accepts_response_payload":1"#,
            #""retry_attempt":"1""#, #""retry_attempt":1.5"#, #""retry_attempt":1e2"#, #""retry_attempt":-0.0"#,
            #""retry_reason":0"#, #""num_connections":[2]"#, #""reason":{}"#,
            #""connection_info":"A1""#, #""connection_info":{"app_id":5}"#, #""debug_info":[]"#,
            #""debug_info":{"host":true}"#, #""debug_info":{"build_number":"18"}"#,
            #""debug_info":{"approximate_connection_time":1.0}"#, #""payload":{"event_id":7}"#,
            #""payload":{"team_id":{}}"#, #""payload":{"type":false}"#, #""payload":{"event":"x"}"#,
            #""payload":{"event":{"type":1}}"#, #""payload":{"team":[]}"#, #""payload":{"team":{"id":null}}"#,
        ])
    func wrongTypes(member: String) throws {
        let s = try scan(#"{"type":"hello","# + member + "}")
        let e = s.envelope
        #expect(e.flags == .fieldTypeMismatch)
        #expect(e.acceptsResponsePayload == nil && e.retryAttempt == nil && !e.retryReason.isPresent)
        #expect(e.numConnections == nil && !e.reason.isPresent && !e.appID.isPresent && !e.debugHost.isPresent)
        #expect(e.buildNumber == nil && e.approximateConnectionTime == nil && !e.eventID.isPresent)
        #expect(!e.teamID.isPresent && !e.payloadType.isPresent && !e.eventType.isPresent)
    }

    @Test("a payload that is not an object is kept as a view and not flagged")
    func nonObjectPayload() throws {
        for payload in [#""text""#, "[]", "0", "true", "null"] {
            let s = try scan(#"{"type":"events_api","envelope_id":"e","payload":"# + payload + "}")
            #expect(s.raw(s.envelope.payload) == payload)
            #expect(s.envelope.flags.isEmpty)
        }
    }

    @Test(
        "integers: only integer literals that fit Int64 are values",
        arguments: [
            ("0", Int64(0)), ("-0", 0), ("18060", 18060), ("9223372036854775807", .max),
            ("-9223372036854775808", .min), ("9223372036854775808", nil), ("-9223372036854775809", nil),
            ("18446744073709551616", nil), ("99999999999999999999999", nil), ("1.0", nil), ("1e0", nil), ("-1E+2", nil),
        ] as [(String, Int64?)])
    func integers(literal: String, value: Int64?) throws {
        let s = try scan(#"{"type":"hello","num_connections":"# + literal + "}")
        #expect(s.envelope.numConnections == value)
        #expect(s.envelope.flags.contains(.fieldTypeMismatch) == (value == nil))
    }

    @Test("booleans: true and false")
    func booleans() throws {
        #expect(try scan(#"{"type":"x","accepts_response_payload":true}"#).envelope.acceptsResponsePayload == true)
        #expect(try scan(#"{"type":"x","accepts_response_payload":false}"#).envelope.acceptsResponsePayload == false)
        #expect(try scan(#"{"type":"x"}"#).envelope.acceptsResponsePayload == nil)
    }

    @Test("fields are read only at their own level")
    func fieldLevels() throws {
        let s = try scan(
            #"{"type":"hello","x":{"envelope_id":"no","num_connections":1},"payload":{"x":{"event_id":"no","team_id":"no"},"event":{"x":{"type":"no"}}},"debug_info":{"x":{"host":"no"}}}"#
        )
        let e = s.envelope
        #expect(!e.envelopeID.isPresent && e.numConnections == nil && !e.eventID.isPresent && !e.teamID.isPresent)
        #expect(!e.eventType.isPresent && !e.debugHost.isPresent && e.flags.isEmpty)
        // event_id at the top level is not payload.event_id.
        #expect(!(try scan(#"{"type":"x","event_id":"Ev1","team_id":"T1"}"#).envelope.eventID.isPresent))
    }

    @Test("a 64 KB block_actions payload scans whole")
    func bigPayload() throws {
        let actions = (0..<440).map { i in
            #"{"action_id":"a\#(i)","block_id":"b","type":"static_select","selected_option":{"text":{"type":"plain_text","text":"Option \#(i) ✓"},"value":"v\#(i)"}}"#
        }
        let payload = #"{"type":"block_actions","team":{"id":"T111"},"actions":["# + actions.joined(separator: ",") + "]}"
        let s = try scan(#"{"envelope_id":"big","type":"interactive","accepts_response_payload":false,"payload":"# + payload + "}")
        #expect(s.bytes.count > 60_000)
        #expect(s.raw(s.envelope.payload) == payload)
        #expect(s.string(s.envelope.payloadType) == "block_actions" && s.string(s.envelope.teamID) == "T111")
    }

    @Test("scanning is repeatable and views resolve against the same bytes")
    func viewsResolve() throws {
        let bytes = Array(Self.eventsAPIExample.utf8)
        let first = try scan(bytes).envelope
        let second = try scan(bytes).envelope
        #expect(first == second)
        bytes.withUnsafeBytes { buffer in
            #expect(String(decoding: first.eventID.bytes(in: buffer), as: UTF8.self) == "Ev111")
        }
    }
}

extension Optional where Wrapped == Int64 {
    /// Whether a scalar field was present with an integer value.
    var isPresentValue: Bool { self != nil }
}
