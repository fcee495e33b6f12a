import SockeyeCore
import Testing

@Suite("HTTPResponseParser")
struct HTTPResponseTests {
    static let fixed = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
    static let chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "4;name=value;quoted=\"a b\"\r\nWiki\r\n" + "00005\r\npedia\r\n" + "E \t; x\r\n in\r\n\r\nchunks.\r\n"
        + "0;last\r\nX-Checksum: abc\r\nX-Other:  two \r\n\r\n"

    /// Checks that `text` parses to the same response however it is cut.
    func expectSameEverywhere(_ text: String, end: Bool = false, _ check: (HTTPResponse) -> Void) {
        for pieces in everySplit(Array(text.utf8)) {
            switch parseHTTP(pieces, end: end) {
            case .success(let response?): check(response)
            case .success(nil): Issue.record("incomplete for pieces \(pieces.map(\.count))")
            case .failure(let error): Issue.record("\(error) for pieces \(pieces.map(\.count))")
            }
        }
    }

    @Test("a Content-Length body completes exactly at its last byte, however the bytes are split")
    func contentLength() throws {
        expectSameEverywhere(Self.fixed) { response in
            #expect(response.status == 200 && response.reason == "OK")
            #expect(response.body.httpText == #"{"ok":true}"#)
            #expect(response.header("content-type") == "application/json")
        }
        #expect(try parseHTTP(String(Self.fixed.dropLast())).get() == nil)
    }

    @Test("a chunked body with extensions and trailers decodes the same however it is split")
    func chunkedEverywhere() {
        expectSameEverywhere(Self.chunked) { response in
            #expect(response.body.httpText == "Wikipedia in\r\n\r\nchunks.")
            #expect(response.trailers == [HTTPHeader(name: "X-Checksum", value: "abc"), HTTPHeader(name: "X-Other", value: "two")])
            #expect(response.header("X-Checksum") == nil)
        }
    }

    @Test("without Content-Length or chunked, the body runs until the connection closes")
    func untilClose() throws {
        let text = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<html>down</html>"
        #expect(try parseHTTP(text).get() == nil)
        let response = try parseHTTP(text, end: true).get()
        #expect(response?.status == 503 && response?.body.httpText == "<html>down</html>")
        expectSameEverywhere(text, end: true) { #expect($0.body.count == 17) }
    }

    @Test("interim 100 Continue and 103 Early Hints are skipped; the final response is returned")
    func interimSkipped() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + Self.fixed
        let response = try parseHTTP(text).get()
        #expect(response?.status == 200 && response?.header("Link") == nil && response?.body.count == 11)
    }

    @Test("204, 304, 101 and answers to HEAD have no body whatever their headers say")
    func noBody() throws {
        #expect(try parseHTTP("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").get()?.body == [])
        #expect(try parseHTTP("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n").get()?.status == 304)
        #expect(try parseHTTP("HTTP/1.1 101 Switching Protocols\r\n\r\n").get()?.status == 101)
        #expect(try parseHTTP("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", requestWasHEAD: true).get()?.body == [])
        #expect(try parseHTTP("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").get()?.body == [])
    }

    @Test("whether the connection stays open: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive")
    func connectionPersistence() throws {
        func keeps(_ head: String) throws -> Bool? {
            try parseHTTP(head + "Content-Length: 0\r\n\r\n").get()?.keepsConnectionOpen
        }
        #expect(try parseHTTP("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").get()?.minorVersion == 0)
        #expect(try parseHTTP("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").get()?.minorVersion == 1)
        #expect(try keeps("HTTP/1.1 200 OK\r\n") == true)
        #expect(try keeps("HTTP/1.1 200 OK\r\nConnection: close\r\n") == false)
        #expect(try keeps("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n") == false)
        #expect(try keeps("HTTP/1.1 200 OK\r\nConnection: x-closed\r\n") == true)
        // What Python's wsgiref answers: HTTP/1.0, no Connection field, then it closes.
        #expect(try keeps("HTTP/1.0 200 OK\r\nServer: WSGIServer/0.2\r\n") == false)
        #expect(try keeps("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n") == true)
        #expect(try keeps("HTTP/1.0 200 OK\r\nConnection: TE,\tKeep-Alive\r\n") == true)
        #expect(try keeps("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n") == false)
    }

    @Test("header names match case-insensitively and the first of several wins")
    func headerLookup() throws {
        let response = try parseHTTP("HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nEmpty:\r\nContent-Length: 0\r\n\r\n").get()
        #expect(response?.header("X-A") == "1" && response?.header("x-A") == "1")
        #expect(response?.header("empty") == "" && response?.header("missing") == nil)
        #expect(response?.headers.count == 4)
    }

    @Test("bare LF line ends are accepted and an obsolete folded line joins the previous value")
    func lenientLines() throws {
        let response = try parseHTTP("\r\nHTTP/1.1 200\nX-Long: a\n \t b\nContent-Length: 2\n\nok").get()
        #expect(response?.reason == "" && response?.header("x-long") == "a b" && response?.body.httpText == "ok")
    }

    @Test("repeated equal Content-Length values are one length; different ones conflict")
    func contentLengthValues() throws {
        #expect(try parseHTTP("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 002\r\n\r\nok").get()?.body.count == 2)
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok") == .conflictingContentLength)
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok") == .conflictingContentLength)
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n") == .invalidContentLength("-1"))
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n") == .invalidContentLength("0x10"))
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 1 0\r\n\r\n") == .invalidContentLength("1 0"))
    }

    @Test("chunked overrides Content-Length; other transfer codings are refused")
    func transferCodings() throws {
        let both = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        #expect(try parseHTTP(both).get()?.body.httpText == "ok")
        #expect(httpError("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == .unsupportedTransferCoding("gzip, chunked"))
        #expect(httpError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == .unsupportedTransferCoding("chunked, chunked"))
        #expect(httpError("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n") == .unsupportedTransferCoding("identity"))
    }

    @Test("malformed status lines are refused", arguments: [
        ("ICY 200 OK\r\n\r\n", HTTPParseError.malformedStatusLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 099 Low\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 600 High\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 20x OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1  200 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 200OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1\r\n\r\n", .malformedStatusLine),
        ("http/1.1 200 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 200 O\u{0}K\r\n\r\n", .malformedStatusLine),
        ("HTTP/x 200 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/2 200\r\n\r\n", .unsupportedVersion("2")),
        ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion("2.0")),
        ("HTTP/0.9 200 OK\r\n\r\n", .unsupportedVersion("0.9")),
    ])
    func malformedStatusLines(text: String, expected: HTTPParseError) {
        #expect(httpError(text) == expected)
    }

    @Test("malformed header lines are refused with their line number", arguments: [
        ("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", HTTPParseError.malformedHeader(line: 2)),
        ("HTTP/1.1 200 OK\r\nA: 1\r\nBad Name: x\r\n\r\n", .malformedHeader(line: 3)),
        ("HTTP/1.1 200 OK\r\nName : x\r\n\r\n", .malformedHeader(line: 2)),
        ("HTTP/1.1 200 OK\r\n: no name\r\n\r\n", .malformedHeader(line: 2)),
        ("HTTP/1.1 200 OK\r\n folded-first\r\n\r\n", .malformedHeader(line: 2)),
        ("HTTP/1.1 200 OK\r\nX: a\u{0}b\r\n\r\n", .malformedHeader(line: 2)),
        ("HTTP/1.1 200 OK\r\nX: a\u{7F}\r\n\r\n", .malformedHeader(line: 2)),
        ("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", .bareCarriageReturn),
    ])
    func malformedHeaders(text: String, expected: HTTPParseError) {
        #expect(httpError(text) == expected)
    }

    @Test("malformed chunks are refused", arguments: [
        ("zz\r\n", HTTPParseError.malformedChunkSize),
        ("\r\n", .malformedChunkSize),
        ("5 x\r\nhello\r\n", .malformedChunkSize),
        ("-5\r\n", .malformedChunkSize),
        ("5;ext\u{1}\r\nhello\r\n", .malformedChunkSize),
        ("5\r\nhelloX\r\n", .malformedChunk),
        ("5\r\nhello\r\r\n", .malformedChunk),
        ("5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", .malformedHeader(line: 1)),
        ("5\rx\nhello", .bareCarriageReturn),
        ("1" + String(repeating: ";", count: 5000) + "\r\n", .malformedChunkSize),
    ])
    func malformedChunks(body: String, expected: HTTPParseError) {
        #expect(httpError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body) == expected)
    }

    @Test("the head limit counts every byte, including interim responses")
    func headLimit() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        let size = head.utf8.count
        #expect(httpError(head, maxHeaderBytes: size) == nil)
        #expect(httpError(head, maxHeaderBytes: size - 1) == .headerTooLarge(limit: size - 1))
        #expect(httpError("HTTP/1.1 100 Continue\r\n\r\n" + head, maxHeaderBytes: size + 10) == .headerTooLarge(limit: size + 10))
        #expect(httpError(String(repeating: "x", count: 100), maxHeaderBytes: 64) == .headerTooLarge(limit: 64))
        let trailers = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + String(repeating: "t", count: 100) + "\r\n\r\n"
        #expect(httpError(trailers, maxHeaderBytes: 80) == .headerTooLarge(limit: 80))
    }

    @Test("the body limit holds for Content-Length, chunked and until-close bodies")
    func bodyLimit() {
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", maxBodyBytes: 10) == nil)
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", maxBodyBytes: 10) == .bodyTooLarge(limit: 10))
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n") == .bodyTooLarge(limit: 1 << 20))
        let chunks = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n"
        #expect(httpError(chunks, maxBodyBytes: 10) == .bodyTooLarge(limit: 10))
        #expect(httpError(chunks, maxBodyBytes: 11) == nil)
        #expect(httpError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n") == .bodyTooLarge(limit: 1 << 20))
        #expect(httpError("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "b", count: 11), maxBodyBytes: 10) == .bodyTooLarge(limit: 10))
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", maxBodyBytes: Int.max) == nil)
    }

    @Test("a close before the response is complete says where it was cut")
    func truncated() {
        #expect(httpError("", end: true) == .noResponse)
        #expect(httpError("HTTP/1.1 2", end: true) == .truncated(.statusLine))
        #expect(httpError("\r\n", end: true) == .truncated(.statusLine))
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-", end: true) == .truncated(.headers))
        #expect(httpError("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", end: true) == .truncated(.body))
        #expect(httpError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab", end: true) == .truncated(.chunkedBody))
        #expect(httpError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", end: true) == .truncated(.trailers))
    }

    @Test("after completion the same response comes back; after an error the same error")
    func stickyOutcomes() throws {
        var parser = HTTPResponseParser()
        let first = try parser.feed(Array(Self.fixed.utf8))
        let again = try parser.feed(Array("garbage".utf8))
        #expect(first != nil && again == first)
        #expect(try parser.receiveEnd() == first)

        var failing = HTTPResponseParser()
        #expect(throws: HTTPParseError.malformedStatusLine) {
            _ = try failing.feed(Array("NOPE\r\n".utf8))
        }
        #expect(throws: HTTPParseError.malformedStatusLine) {
            _ = try failing.feed(Array(Self.fixed.utf8))
        }
        #expect(throws: HTTPParseError.malformedStatusLine) { try failing.receiveEnd() }
    }

    @Test("Retry-After in delta-seconds becomes a Duration")
    func retryAfterSeconds() {
        #expect(HTTPResponse(status: 429, headers: [HTTPHeader(name: "Retry-After", value: "30")]).retryAfter == .seconds(30))
        #expect(HTTPResponse(status: 429, headers: [HTTPHeader(name: "retry-after", value: "0")]).retryAfter == .zero)
        #expect(HTTPResponse(status: 429).retryAfter == nil)
        #expect(HTTPResponse(status: 429, headers: [HTTPHeader(name: "Retry-After", value: "3O")]).retryAfter == nil)
        #expect(HTTPResponse(status: 429, headers: [HTTPHeader(name: "Retry-After", value: "-5")]).retryAfter == nil)
        let huge = HTTPResponse(status: 429, headers: [HTTPHeader(name: "Retry-After", value: String(repeating: "9", count: 40))])
        #expect(huge.retryAfter.map { $0 > .seconds(1_000_000_000_000) } == true)
    }

    @Test("Retry-After as an HTTP-date counts from the response's Date header")
    func retryAfterDate() {
        func response(_ retry: String, date: String?) -> HTTPResponse {
            var headers = [HTTPHeader(name: "Retry-After", value: retry)]
            if let date { headers.append(HTTPHeader(name: "Date", value: date)) }
            return HTTPResponse(status: 503, headers: headers)
        }
        #expect(response("Wed, 21 Oct 2015 07:28:00 GMT", date: "Wed, 21 Oct 2015 07:27:30 GMT").retryAfter == .seconds(30))
        // Across a month end and a leap day.
        #expect(response("Fri, 01 Mar 2024 00:00:10 GMT", date: "Thu, 29 Feb 2024 23:59:50 GMT").retryAfter == .seconds(20))
        #expect(response("Sun, 01 Jan 2023 00:00:00 GMT", date: "Sat, 31 Dec 2022 00:00:00 GMT").retryAfter == .seconds(86_400))
        #expect(response("Wed, 21 Oct 2015 07:27:00 GMT", date: "Wed, 21 Oct 2015 07:28:00 GMT").retryAfter == .zero)
        #expect(response("Wed, 21 Oct 2015 07:28:00 GMT", date: nil).retryAfter == nil)
        #expect(response("Wednesday, 21-Oct-15 07:28:00 GMT", date: "Wed, 21 Oct 2015 07:27:30 GMT").retryAfter == nil)
        #expect(response("Wed, 21 Foo 2015 07:28:00 GMT", date: "Wed, 21 Oct 2015 07:27:30 GMT").retryAfter == nil)
    }

    @Test("error descriptions differ from one another")
    func descriptions() {
        let errors: [HTTPParseError] = [
            .noResponse, .truncated(.statusLine), .truncated(.body), .malformedStatusLine, .unsupportedVersion("2"),
            .malformedHeader(line: 2), .bareCarriageReturn, .headerTooLarge(limit: 1), .invalidContentLength("x"),
            .conflictingContentLength, .unsupportedTransferCoding("gzip"), .malformedChunkSize, .malformedChunk,
            .bodyTooLarge(limit: 1),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
    }
}
