import SockeyeCore
import Testing

@Suite("WebSocketFrameDecoder")
struct WebSocketFrameDecoderTests {
    @Test("many frames in one read are delivered in order")
    func manyFramesInOneRead() {
        var bytes: [UInt8] = []
        var expected: [Decoded] = []
        for i in 0..<50 {
            let text = "{\"envelope_id\":\"\(i)\"}"
            bytes += serverFrame(0x1, text)
            expected.append(.text(text))
        }
        bytes += serverFrame(0x2, [1, 2, 3])
        bytes += serverFrame(0x9, [7])
        bytes += serverFrame(0xA, [])
        expected += [.binary([1, 2, 3]), .ping([7]), .pong([])]
        let result = decodeChunks([bytes])
        #expect(result.error == nil)
        #expect(result.messages == expected)
    }

    @Test("a stream split at every byte offset decodes to the same messages")
    func splitAtEveryOffset() {
        let text = String(repeating: "é", count: 70)  // 140 bytes: a 16-bit length, multi-byte UTF-8
        let stream = serverFrame(0x1, text) + serverFrame(0x9, [9, 8]) + serverFrame(0x2, patternBytes(300))
            + serverFrame(0x1, "a", fin: false) + serverFrame(0xA, [1]) + serverFrame(0x0, "bc") + serverFrame(0x1, "")
        let expected: [Decoded] = [.text(text), .ping([9, 8]), .binary(patternBytes(300)), .pong([1]), .text("abc"), .text("")]
        for cut in 0...stream.count {
            let result = decodeChunks([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(result.error == nil, "cut at \(cut)")
            #expect(result.messages == expected, "cut at \(cut)")
        }
        // And split at two offsets, in three reads.
        for first in stride(from: 0, through: stream.count, by: 7) {
            for second in stride(from: first, through: stream.count, by: 5) {
                let result = decodeChunks([Array(stream[..<first]), Array(stream[first..<second]), Array(stream[second...])])
                #expect(result.messages == expected && result.error == nil, "cuts at \(first), \(second)")
            }
        }
    }

    @Test("one frame fed a byte at a time is delivered once, after its last byte")
    func oneByteAtATime() {
        let payload = patternBytes(70_000)
        let frame = serverFrame(0x2, payload)
        var decoder = WebSocketFrameDecoder()
        for (index, byte) in frame.enumerated() {
            let result = feedDecoder([[byte]], to: &decoder)
            #expect(result.error == nil)
            if index < frame.count - 1 {
                #expect(result.messages.isEmpty)
            } else {
                #expect(result.messages == [.binary(payload)])
            }
        }
    }

    @Test("7-bit, 16-bit and 64-bit lengths decode at their boundaries")
    func lengthEncodings() {
        for count in [0, 1, 125, 126, 127, 65_535, 65_536, 70_000] {
            let payload = patternBytes(count, seed: UInt8(count & 0xFF))
            #expect(decodeChunks([serverFrame(0x2, payload)]).messages == [.binary(payload)], "\(count) bytes")
        }
    }

    @Test("longer length encodings than needed are accepted")
    func nonMinimalLengths() {
        let result = decodeChunks([serverFrame(0x1, Array("hi".utf8), length: .sixteen) + serverFrame(0x1, Array("yo".utf8), length: .sixtyFour)
            + serverFrame(0x9, [1, 2], length: .sixtyFour)])
        #expect(result.error == nil)
        #expect(result.messages == [.text("hi"), .text("yo"), .ping([1, 2])])
    }

    @Test("a fragmented text message is reassembled, with pings and pongs between fragments delivered at once")
    func fragmentedWithControlFrames() {
        let stream = [
            serverFrame(0x1, "Hel", fin: false), serverFrame(0x9, [1]), serverFrame(0x0, "lo, ", fin: false),
            serverFrame(0xA, [2]), serverFrame(0x9, []), serverFrame(0x0, "world"),
        ]
        // Each frame in its own read: the controls come out as they arrive, before the message.
        var decoder = WebSocketFrameDecoder()
        var seen: [[Decoded]] = []
        for frame in stream { seen.append(feedDecoder([frame], to: &decoder).messages) }
        #expect(seen == [[], [.ping([1])], [], [.pong([2])], [.ping([])], [.text("Hello, world")]])
        // All in one read: same order.
        #expect(decodeChunks([stream.flatMap { $0 }]).messages == [.ping([1]), .pong([2]), .ping([]), .text("Hello, world")])
    }

    @Test("a fragmented binary message and empty fragments are reassembled")
    func fragmentedBinary() {
        let stream = serverFrame(0x2, [], fin: false) + serverFrame(0x0, [1, 2], fin: false) + serverFrame(0x0, [], fin: false)
            + serverFrame(0x0, [3])
        #expect(decodeChunks([stream]).messages == [.binary([1, 2, 3])])
    }

    @Test("a multi-byte character split across fragments is valid UTF-8")
    func utf8SplitAcrossFragments() {
        let emoji = Array("😀".utf8)
        let stream = serverFrame(0x1, [0x61] + emoji[0..<1], fin: false) + serverFrame(0x0, Array(emoji[1..<3]), fin: false)
            + serverFrame(0x0, Array(emoji[3...]) + [0x62])
        #expect(decodeChunks([stream]).messages == [.text("a😀b")])
    }

    @Test("a frame lying whole in the input is passed as a view into the input, without a copy")
    func zeroCopyView() {
        let first = serverFrame(0x1, "{\"type\":\"hello\"}")
        let second = serverFrame(0x2, patternBytes(1000))
        let ping = serverFrame(0x9, [5, 6])
        let bytes = first + second + ping
        var decoder = WebSocketFrameDecoder()
        var views: [(offset: Int, count: Int)] = []
        bytes.withUnsafeBytes { input in
            let base = input.baseAddress!
            try? decoder.decode(input) { message in
                let view: UnsafeRawBufferPointer
                switch message {
                case .text(let v), .binary(let v), .ping(let v), .pong(let v): view = v
                case .close(_, let v): view = v
                }
                views.append((view.baseAddress! - base, view.count))
            }
        }
        #expect(views.count == 3)
        #expect(views[0].offset == 2 && views[0].count == first.count - 2)
        #expect(views[1].offset == first.count + 4 && views[1].count == 1000)
        #expect(views[2].offset == first.count + second.count + 2 && views[2].count == 2)
    }

    @Test("a frame whose header was split but whose payload arrives whole is still a view into the input")
    func zeroCopyAfterSplitHeader() {
        let frame = serverFrame(0x2, patternBytes(500))
        var decoder = WebSocketFrameDecoder()
        _ = feedDecoder([Array(frame[..<3])], to: &decoder)
        let rest = Array(frame[3...])
        var inside = false
        rest.withUnsafeBytes { input in
            try? decoder.decode(input) { message in
                if case .binary(let view) = message {
                    inside = view.baseAddress! >= input.baseAddress! && view.baseAddress! + view.count <= input.baseAddress! + input.count
                }
            }
        }
        #expect(inside)
    }

    @Test("a close frame is delivered with its code and reason, and later bytes are ignored")
    func closeFinishes() {
        let stream = serverFrame(0x1, "before") + serverFrame(0x8, closePayload(1001, "going away")) + serverFrame(0x1, "after")
        var decoder = WebSocketFrameDecoder()
        let result = feedDecoder([stream, serverFrame(0x1, "later")], to: &decoder)
        #expect(result.error == nil)
        #expect(result.messages == [.text("before"), .close(1001, Array("going away".utf8))])
        #expect(decoder.isClosed)
    }

    @Test("an empty close frame has no code")
    func emptyClose() {
        #expect(decodeChunks([serverFrame(0x8, [])]).messages == [.close(nil, [])])
    }

    @Test("a close frame split across reads is delivered whole")
    func splitClose() {
        let frame = serverFrame(0x8, closePayload(4000, "bye"))
        #expect(decodeChunks(frame.map { [$0] }).messages == [.close(4000, Array("bye".utf8))])
    }

    @Test("a message of exactly maxMessageSize bytes is accepted, also when fragmented")
    func exactlyAtLimit() {
        #expect(decodeChunks([serverFrame(0x2, patternBytes(100))], maxMessageSize: 100).messages == [.binary(patternBytes(100))])
        let fragmented = serverFrame(0x2, patternBytes(60), fin: false) + serverFrame(0x0, patternBytes(40))
        let result = decodeChunks([fragmented], maxMessageSize: 100)
        #expect(result.error == nil && result.messages.count == 1)
    }

    @Test("the reassembly buffer is reused: a second fragmented message does not carry bytes of the first")
    func bufferReuse() {
        let message = serverFrame(0x1, "first-", fin: false) + serverFrame(0x0, "message")
            + serverFrame(0x1, "x", fin: false) + serverFrame(0x0, "y")
        #expect(decodeChunks([message]).messages == [.text("first-message"), .text("xy")])
    }
}
