import CSockeyeOpenSSL

/// Trust settings shared by a client's TLS connections: TLS 1.2 or newer, peer verification
/// on, the system CA store (honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`) or one CA file, for
/// TLS-inspecting proxies and test servers. The OpenSSL context is thread-safe once built.
public final class TLSConfiguration: @unchecked Sendable {
    let raw: OpaquePointer
    /// The CA file in force, or nil for the system store.
    public let caFile: String?

    /// Builds the configuration; fails with `.tls` when the CA file cannot be loaded.
    public init(caFile: String?) throws(TransportError) {
        var error = [CChar](repeating: 0, count: 512)
        guard let config = sockeye_tls_config_new(caFile, &error, error.count) else {
            throw .tls(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), verification: false)
        }
        raw = config
        self.caFile = caFile
    }

    deinit { sockeye_tls_config_free(raw) }

    /// The TLS library and its version, e.g. "OpenSSL 3.0.15 3 Sep 2024".
    public static var libraryVersion: String { String(cString: sockeye_tls_library_version()) }
}
