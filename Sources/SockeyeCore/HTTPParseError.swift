/// Why an HTTP/1.1 response could not be read.
public enum HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the response the connection ended too early.
    public enum Part: String, Sendable, Hashable {
        case statusLine = "status line"
        case headers = "header section"
        case body = "body"
        case chunkedBody = "chunked body"
        case trailers = "trailer section"
    }

    /// The connection closed before a single byte of a response arrived.
    case noResponse
    /// The connection closed in the middle of `Part` (for a body: before `Content-Length`
    /// bytes, or before the last chunk).
    case truncated(Part)
    /// The first line is not `HTTP/1.x NNN reason`.
    case malformedStatusLine
    /// A status line of an HTTP version other than 1.x; carries the version as written.
    case unsupportedVersion(String)
    /// A header (or trailer) line that is not `name: value`, has a control character, or
    /// continues a line that does not exist; carries its 1-based line number in the head
    /// (the status line is line 1; for trailers, the first trailer is line 1).
    case malformedHeader(line: Int)
    /// A bare CR not followed by LF.
    case bareCarriageReturn
    /// The status line and headers (or the trailers) exceed this many bytes.
    case headerTooLarge(limit: Int)
    /// A `Content-Length` value that is not a decimal number; carries it.
    case invalidContentLength(String)
    /// Several `Content-Length` values that differ.
    case conflictingContentLength
    /// A `Transfer-Encoding` other than `chunked` (no content coding was asked for, so none
    /// can be decoded); carries the header's value.
    case unsupportedTransferCoding(String)
    /// A chunk-size line that is not hex digits followed by optional `;extensions`, or is
    /// longer than `HTTPResponseParser.maxChunkLineBytes`.
    case malformedChunkSize
    /// Chunk data not followed by CRLF.
    case malformedChunk
    /// The body would exceed this many bytes.
    case bodyTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .noResponse: "the connection closed before any response arrived"
        case .truncated(let part): "the connection closed in the middle of the response's \(part.rawValue)"
        case .malformedStatusLine: "malformed HTTP status line"
        case .unsupportedVersion(let version): "unsupported HTTP version \"\(version)\" (expected HTTP/1.x)"
        case .malformedHeader(let line): "malformed header field on line \(line)"
        case .bareCarriageReturn: "a CR not followed by LF in the response head"
        case .headerTooLarge(let limit): "the response head is larger than \(limit) bytes"
        case .invalidContentLength(let value): "invalid Content-Length \"\(value)\""
        case .conflictingContentLength: "conflicting Content-Length values"
        case .unsupportedTransferCoding(let value): "unsupported Transfer-Encoding \"\(value)\" (only chunked)"
        case .malformedChunkSize: "malformed chunk-size line"
        case .malformedChunk: "chunk data not followed by CRLF"
        case .bodyTooLarge(let limit): "the response body is larger than \(limit) bytes"
        }
    }
}
