import NIOCore
import NIOHTTP1

/// One HTTP/1.1 request the server read in full: its head and its body (at most the
/// server's body limit).
public struct HTTPServerRequest: Sendable {
    /// Method, target, version and header fields as received.
    public let head: HTTPRequestHead
    /// The whole body (empty when there is none).
    public let body: ByteBuffer

    /// The request target's path (the target without its query).
    public var path: Substring { HTTPServerRequest.path(of: head.uri) }

    /// The first value of header `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? { head.headers.first(name: name) }

    /// `target` without its query.
    public static func path(of target: String) -> Substring {
        let uri = target[...]
        return uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri
    }
}

/// A response: status, content type and body. `Content-Length`, `Date`,
/// `Cache-Control: no-store` and, when the connection ends, `Connection: close` are added by
/// the server.
public struct HTTPServerResponse: Sendable {
    /// The status line's code and reason.
    public var status: HTTPResponseStatus
    /// `Content-Type`, when there is one.
    public var contentType: String?
    /// The body (not sent for a HEAD request; its length is).
    public var body: ByteBuffer
    /// Further header fields (name, value).
    public var extraHeaders: [(String, String)]

    /// A response of `status` with `body` of `contentType` and `extraHeaders`.
    public init(status: HTTPResponseStatus, contentType: String? = nil, body: ByteBuffer = ByteBuffer(),
                extraHeaders: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.extraHeaders = extraHeaders
    }

    /// A plain text response.
    public static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPServerResponse {
        HTTPServerResponse(status: status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: text))
    }

    /// The response's bytes on the wire (no body for a HEAD request).
    func encoded(keepAlive: Bool, withBody: Bool) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(160 + body.readableBytes)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
        if let contentType {
            out.writeStaticString("Content-Type: ")
            out.writeString(contentType)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Content-Length: ")
        out.writeString(String(body.readableBytes))
        out.writeStaticString("\r\nCache-Control: no-store\r\nDate: ")
        out.writeString(DateHeader.now())
        out.writeStaticString("\r\n")
        for (name, value) in extraHeaders {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        if !keepAlive { out.writeStaticString("Connection: close\r\n") }
        out.writeStaticString("\r\n")
        if withBody { out.writeImmutableBuffer(body) }
        return out
    }
}

/// Sends the one response to one request. `send` may be called from any thread, once
/// (later calls are ignored); the bytes are encoded on the calling thread and written on
/// the connection's event loop, in request order (a pipelined request's response waits for
/// the earlier ones).
public struct HTTPResponseSender: Sendable {
    let connection: NIOLoopBound<ServerConnection>
    let sequence: Int
    let keepAlive: Bool
    let isHead: Bool
    let outbox: ResponseOutbox

    /// The event loop of the request's connection (where the handler runs).
    public var eventLoop: any EventLoop { connection.eventLoop }

    /// Sends `response`; the connection closes afterwards when the client asked for it
    /// (`Connection: close`, HTTP/1.0 without keep-alive).
    public func send(_ response: HTTPServerResponse) {
        let bytes = response.encoded(keepAlive: keepAlive, withBody: !isHead)
        if connection.eventLoop.inEventLoop {
            connection.value.complete(sequence, bytes, close: !keepAlive)
        } else {
            outbox.post(ResponseOutbox.Item(connection: connection, sequence: sequence, bytes: bytes, close: !keepAlive))
        }
    }
}
