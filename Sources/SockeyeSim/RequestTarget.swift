import CSockeyeOpenSSL
import Foundation

/// A parsed Request URL (`http://` or `https://`) and, for `https://`, the TLS client
/// context that checks the app's certificate: against `caFile` when given (to trust a
/// self-signed certificate), else against the system's trust store.
final class RequestTarget: @unchecked Sendable {
    let url: String
    let host: String
    let port: Int
    /// Path plus query, as sent in the request line.
    let path: String
    /// The `sockeye_tls_stream_ctx` for `https://`; nil for `http://`.
    let tls: OpaquePointer?

    init(url: String, caFile: String?) throws {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = u.host, !host.isEmpty
        else { throw SimError.badRequestURL("\(url): only http:// and https:// Request URLs are supported") }
        self.url = url
        self.host = host
        port = u.port ?? (scheme == "https" ? 443 : 80)
        var p = u.path.isEmpty ? "/" : u.path
        if let q = u.query { p += "?" + q }
        path = p
        if scheme == "https" {
            var err = [CChar](repeating: 0, count: 256)
            guard let ctx = sockeye_tls_stream_client_ctx(caFile, &err, err.count) else {
                throw SimError.badRequestURL("TLS setup for \(url) failed: \(String(cChars: err))")
            }
            tls = ctx
        } else {
            if let caFile { throw SimError.badRequestURL("--request-url-ca \(caFile) given for a plain http:// Request URL") }
            tls = nil
        }
    }

    deinit { if let tls { sockeye_tls_stream_ctx_free(tls) } }

    /// `Host` header value.
    var hostHeader: String { "\(host):\(port)" }
}
