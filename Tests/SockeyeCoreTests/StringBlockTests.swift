import SockeyeCore
import Testing

/// The string scan classifies bytes 64 at a time and reuses a block across strings; these
/// tests put every kind of stop at every offset around block edges and the buffer's end.
@Suite("EnvelopeScanner strings across 64-byte blocks")
struct StringBlockTests {
    /// What may sit inside an envelope_id, and what it decodes to.
    static let insertions: [(raw: String, decoded: String)] = [
        ("\\\"", "\""), ("\\\\", "\\"), ("\\n", "\n"), ("\\u00e9", "é"), ("\\ud83d\\ude00", "😀"),
        ("é", "é"), ("€", "€"), ("😀", "😀"), ("x", "x"),
    ]

    @Test("an escape or UTF-8 sequence at any offset of a long id is read back exactly")
    func stopsAtEveryOffset() throws {
        for (raw, decoded) in Self.insertions {
            for position in 0..<140 {
                let prefix = String(repeating: "a", count: position)
                let suffix = String(repeating: "b", count: 139 - position)
                let frame = #"{"type":"events_api","envelope_id":"\#(prefix)\#(raw)\#(suffix)"}"#
                let scanned = try scan(frame)
                #expect(scanned.string(scanned.envelope.envelopeID) == prefix + decoded + suffix, "\(raw) at \(position)")
                #expect(scanned.envelope.envelopeID.isEscaped == raw.hasPrefix("\\"))
            }
        }
    }

    @Test("strings of every length up to 200 end exactly at their closing quote")
    func everyLength() throws {
        for length in 0...200 {
            let id = String((0..<length).map { Character(UnicodeScalar(UInt8(0x41 + $0 % 26))) })
            for padding in 0..<3 {
                let frame = String(repeating: " ", count: padding) + #"{"type":"hello","envelope_id":"\#(id)","reason":"x"}"#
                let scanned = try scan(frame)
                #expect(scanned.string(scanned.envelope.envelopeID) == id)
                #expect(scanned.string(scanned.envelope.reason) == "x")
            }
        }
    }

    @Test("a frame cut anywhere inside a long string is an early end at the frame's length")
    func truncatedAnywhere() {
        let frame = Array(#"{"type":"events_api","envelope_id":"\#(String(repeating: "é0123456789", count: 12))"}"#.utf8)
        let stringStart = offset(of: "envelope_id\":\"", in: String(decoding: frame, as: UTF8.self)) + 14
        for cut in stringStart..<(frame.count - 2) {
            let error = scanError(Array(frame[0..<cut]))
            // A cut inside "é" leaves half a sequence: still an early end, the bytes so far are valid.
            #expect(error == ScanError(.unexpectedEnd, at: cut), "cut at \(cut)")
        }
    }

    @Test("a control character or bad UTF-8 at any offset is reported at its own byte")
    func badBytesAtEveryOffset() {
        for bad: [UInt8] in [[0x01], [0x1F], [0xC0, 0x80], [0xFF], [0xED, 0xA0, 0x80]] {
            for position in 0..<130 {
                var frame = Array(#"{"type":"events_api","envelope_id":""#.utf8)
                let at = frame.count + position
                frame += [UInt8](repeating: 0x61, count: position) + bad + [UInt8](repeating: 0x62, count: 5)
                frame += Array(#""}"#.utf8)
                let kind: ScanError.Kind = bad[0] < 0x20 ? .controlCharacter : .invalidUTF8
                #expect(scanError(frame) == ScanError(kind, at: at), "\(bad) at \(position)")
            }
        }
    }
}
