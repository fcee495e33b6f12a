import NIOCore
import NIOSSL

/// TLS for the connections of an `HTTPConnectionPool` to an `https://` origin.
///
/// The server's certificate is always verified, chain and name: against the system's trust
/// store, or, with a CA file, against that file's certificates alone (as the Socket Mode
/// client's `ca_file` does). SNI carries the host name; for an IP literal there is no SNI
/// (RFC 6066 §3 forbids it) and the address must be in the certificate's IP SANs.
public struct PoolTLS: Sendable {
    /// Why the TLS settings cannot be used.
    public struct SetupError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    let context: NIOSSLContext

    /// Verification against the system's trust store, or against the PEM certificates of
    /// `caFile` only. Throws when the file cannot be read or holds no certificate.
    public init(caFile: String? = nil) throws(SetupError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw SetupError(description: "cannot read CA certificates from \(caFile): \(error)")
            }
            guard !certificates.isEmpty else { throw SetupError(description: "\(caFile) holds no PEM certificate") }
            configuration.trustRoots = .certificates(certificates)
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw SetupError(description: "cannot set up TLS: \(error)")
        }
    }

    /// The pipeline handler for one connection to `host` (a name or an IP literal).
    func handler(host: String) throws -> NIOSSLClientHandler {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }

    /// What a TLS failure caught on a connection says, or nil for an error that is not one
    /// (an unclean shutdown after the handshake is the server closing, reported as that).
    static func failure(_ error: any Error) -> String? {
        if let error = error as? NIOSSLError {
            if case .uncleanShutdown = error { return nil }
            return "TLS: \(error)"
        }
        if let error = error as? NIOSSLExtraError { return "TLS: \(error)" }
        if let error = error as? BoringSSLError { return "TLS: \(error)" }
        return nil
    }
}
