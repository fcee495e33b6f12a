/// An incremental HTTP/1.1 response parser, sans-IO: feed it whatever bytes a read returned.
///
/// ```swift
/// var parser = HTTPResponseParser()
/// // on every read:
/// if let response = try parser.receive(bytes) { … }
/// // when the peer closes first:
/// let response = try parser.receiveEnd()
/// ```
///
/// The body is framed as RFC 9112 §6.3 says: none for `HEAD` requests and 1xx/204/304;
/// else chunked when `Transfer-Encoding: chunked` (which overrides any `Content-Length`);
/// else `Content-Length` (repeated or comma-separated values must all agree); else until
/// the connection closes. Chunk extensions are skipped; trailers are kept apart in
/// `HTTPResponse.trailers`. Interim 1xx responses (`100 Continue`, `103 Early Hints`) are
/// skipped; `101` is returned as final, with no body. Bytes after a complete response are
/// not read (`lastConsumed` says where the response ended; a keep-alive client treats more
/// as a protocol error, since it sends one request at a time). After an error,
/// every further call throws the same error; after completion, every call returns the same
/// response.
public struct HTTPResponseParser: Sendable {
    /// The longest chunk-size line (size and extensions) accepted.
    public static let maxChunkLineBytes = 4096

    private enum Phase: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        /// After chunk data: `sawCR` once the CR of its CRLF arrived.
        case chunkDataEnd(sawCR: Bool)
        case trailers
        case untilClose
        case done
        case failed(HTTPParseError)
    }

    private let maxBodyBytes: Int
    private let requestWasHEAD: Bool
    private var phase = Phase.head
    private var head: HTTPHeadReader
    private var trailerReader: HTTPHeadReader
    private var chunkLine: [UInt8] = []
    private var response = HTTPResponse(status: 0)

    /// How many bytes of the last `receive` call's input belong to the response: fewer than
    /// were given when the response completed before their end (a keep-alive client then
    /// knows the peer sent more than it was asked for).
    public private(set) var lastConsumed = 0

    /// Whether the connection can carry another request after this (complete) response:
    /// its end was framed by a length or chunks, not by the connection closing.
    public var endsByFraming: Bool {
        if case .done = phase { return !readUntilClose }
        return false
    }
    private var readUntilClose = false

    /// A parser for one response. `maxHeaderBytes` bounds the status line and headers (and,
    /// separately, the trailers); `maxBodyBytes` the decoded body. Set `requestWasHEAD` when
    /// the request was `HEAD`: the response then has no body whatever its headers say.
    public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20, requestWasHEAD: Bool = false) {
        self.maxBodyBytes = maxBodyBytes
        self.requestWasHEAD = requestWasHEAD
        head = HTTPHeadReader(limit: maxHeaderBytes, readsStatusLine: true)
        trailerReader = HTTPHeadReader(limit: maxHeaderBytes, readsStatusLine: false)
    }

    /// Feeds bytes; returns the response once it is complete, else `nil`. Throws on malformed
    /// input, conflicting framing, or a limit exceeded.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPResponse? {
        if case .failed(let error) = phase { throw error }
        do throws(HTTPParseError) {
            return try advance(bytes)
        } catch {
            phase = .failed(error)
            throw error
        }
    }

    /// The peer closed the connection: completes a body read until close (or returns the
    /// response already complete); anything else ends too early and throws.
    public mutating func receiveEnd() throws(HTTPParseError) -> HTTPResponse {
        let error: HTTPParseError
        switch phase {
        case .done, .untilClose:
            phase = .done
            return response
        case .failed(let failure): error = failure
        case .head: error = head.used == 0 ? .noResponse : head.status == 0 ? .truncated(.statusLine) : .truncated(.headers)
        case .fixedBody: error = .truncated(.body)
        case .chunkSize, .chunkData, .chunkDataEnd: error = .truncated(.chunkedBody)
        case .trailers: error = .truncated(.trailers)
        }
        phase = .failed(error)
        throw error
    }

    private mutating func advance(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPResponse? {
        // Safety: `i` only grows, by amounts computed as at most `bytes.count - i`, and every
        // single-byte read is guarded by `i < bytes.count` (or `j < bytes.count`) just before
        // it. Fuzzed under AddressSanitizer with random split points.
        var i = 0
        lastConsumed = bytes.count
        while true {
            switch phase {
            case .done:
                lastConsumed = i
                return response
            case .failed(let error):
                throw error
            case .head:
                guard let end = try head.consume(bytes, from: i) else { return nil }
                i = end
                try headComplete()
            case .fixedBody(let remaining):
                let take = min(remaining, bytes.count - i)
                response.body.append(contentsOf: bytes[i..<(i + take)])
                i += take
                phase = remaining == take ? .done : .fixedBody(remaining: remaining - take)
                if remaining > take { return nil }
            case .untilClose:
                guard bytes.count - i <= maxBodyBytes - response.body.count else { throw .bodyTooLarge(limit: maxBodyBytes) }
                response.body.append(contentsOf: bytes[i...])
                return nil
            case .chunkSize:
                var j = i
                while j < bytes.count && bytes[j] != HTTPBytes.lf { j += 1 }
                guard chunkLine.count + (j - i) <= Self.maxChunkLineBytes else { throw .malformedChunkSize }
                chunkLine.append(contentsOf: bytes[i..<j])
                guard j < bytes.count else { return nil }
                i = j + 1
                let size = try chunkSize()
                chunkLine.removeAll(keepingCapacity: true)
                phase = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard i < bytes.count else { return nil }
                let take = min(remaining, bytes.count - i)
                response.body.append(contentsOf: bytes[i..<(i + take)])
                i += take
                phase = remaining == take ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: remaining - take)
            case .chunkDataEnd(let sawCR):
                guard i < bytes.count else { return nil }
                let byte = bytes[i]
                i += 1
                if byte == HTTPBytes.lf {
                    phase = .chunkSize
                } else if byte == HTTPBytes.cr && !sawCR {
                    phase = .chunkDataEnd(sawCR: true)
                } else {
                    throw .malformedChunk
                }
            case .trailers:
                guard let end = try trailerReader.consume(bytes, from: i) else { return nil }
                i = end
                response.trailers = trailerReader.headers
                phase = .done
            }
        }
    }

    /// The head is complete: skip an interim response, or decide how the body is framed.
    private mutating func headComplete() throws(HTTPParseError) {
        if head.status >= 100 && head.status < 200 && head.status != 101 {
            head.reset()
            return
        }
        response.status = head.status
        response.minorVersion = head.minorVersion
        response.reason = head.reason
        response.headers = head.headers
        if requestWasHEAD || head.status < 200 || head.status == 204 || head.status == 304 {
            phase = .done
            return
        }
        let codings = listValues("Transfer-Encoding")
        if !codings.isEmpty {
            guard codings.count == 1, codings[0].utf8.elementsEqual("chunked".utf8, by: { HTTPBytes.lower($0) == $1 }) else {
                throw .unsupportedTransferCoding(headerValues("Transfer-Encoding").joined(separator: ", "))
            }
            phase = .chunkSize
            return
        }
        let lengths = listValues("Content-Length")
        guard let first = lengths.first else {
            phase = .untilClose
            readUntilClose = true
            return
        }
        var length = 0
        for (index, text) in lengths.enumerated() {
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .invalidContentLength(text) }
            if index > 0 {
                guard text.drop(while: { $0 == "0" }) == first.drop(while: { $0 == "0" }) else { throw .conflictingContentLength }
                continue
            }
            for byte in text.utf8 {
                let (scaled, overflow) = length.multipliedReportingOverflow(by: 10)
                length = scaled &+ Int(byte - 0x30)
                guard !overflow, length >= 0, length <= maxBodyBytes else { throw .bodyTooLarge(limit: maxBodyBytes) }
            }
        }
        response.body.reserveCapacity(length)
        phase = length == 0 ? .done : .fixedBody(remaining: length)
    }

    /// Every value of the fields named `name`.
    private func headerValues(_ name: String) -> [String] {
        head.headers.filter { $0.hasName(name) }.map(\.value)
    }

    /// The comma-separated elements of every field named `name`, trimmed, empty ones dropped.
    private func listValues(_ name: String) -> [String] {
        headerValues(name).flatMap { value in
            value.split(separator: ",", omittingEmptySubsequences: true).map {
                String(decoding: HTTPBytes.trimmed(ArraySlice($0.utf8)), as: UTF8.self)
            }.filter { !$0.isEmpty }
        }
    }

    /// The size in `chunkLine`: hex digits, optional blanks, then nothing or `;extensions`.
    private func chunkSize() throws(HTTPParseError) -> Int {
        var line = chunkLine[...]
        if line.last == HTTPBytes.cr { line = line.dropLast() }
        guard !line.contains(HTTPBytes.cr) else { throw .bareCarriageReturn }
        var size = 0
        var digits = 0
        var i = line.startIndex
        while i < line.endIndex, let digit = HexDigit.value(line[i]) {
            let (scaled, overflow) = size.multipliedReportingOverflow(by: 16)
            size = scaled | Int(digit)
            guard !overflow, size <= maxBodyBytes - response.body.count else { throw .bodyTooLarge(limit: maxBodyBytes) }
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw .malformedChunkSize }
        while i < line.endIndex && HTTPBytes.isBlank(line[i]) { i += 1 }
        if i < line.endIndex {
            // Extensions carry nothing we use; only check they are text, after a ";".
            guard line[i] == UInt8(ascii: ";"), line[i...].allSatisfy(HTTPBytes.isFieldText) else { throw .malformedChunkSize }
        }
        return size
    }
}
