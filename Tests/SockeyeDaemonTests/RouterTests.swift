import SockeyeCore
import SockeyeDaemon
import Testing

@Suite("routes and payload fields")
struct RouterTests {
    @Test("the channel, user, bot and command are read from each payload shape")
    func payloadFields() throws {
        func read(_ json: String) throws -> [String?] {
            var bytes = Array(json.utf8)
            return try bytes.withUnsafeMutableBytes { raw in
                let buffer = UnsafeRawBufferPointer(raw)
                let fields = try PayloadFields.read(buffer)
                return [fields.channel, fields.user, fields.botID, fields.command].map { view in
                    view.isPresent ? String(decoding: view.bytes(in: buffer), as: UTF8.self) : nil
                }
            }
        }
        #expect(try read(#"{"team_id":"T1","event":{"type":"message","user":"U1","channel":"C1","bot_id":"B1","blocks":[{"channel":"X"}]}}"#) == ["C1", "U1", "B1", nil])
        #expect(try read(#"{"event":{"type":"reaction_added","user":"U2","item":{"type":"message","channel":"C2"}}}"#) == ["C2", "U2", nil, nil])
        #expect(try read(#"{"command":"/deploy","channel_id":"C3","user_id":"U3","text":"x"}"#) == ["C3", "U3", nil, "/deploy"])
        #expect(try read(#"{"type":"block_actions","user":{"id":"U4"},"channel":{"id":"C4","name":"g"}}"#) == ["C4", "U4", nil, nil])
        #expect(try read(#"{"type":"block_actions","user":{"id":"U5"},"container":{"type":"message","channel_id":"C5"}}"#) == ["C5", "U5", nil, nil])
        #expect(try read(#"{"type":"shortcut"}"#) == [nil, nil, nil, nil])
        #expect(throws: ScanError.self) { try read(#"{"event":{"channel":"#) }
    }
}
