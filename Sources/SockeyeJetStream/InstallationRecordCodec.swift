import Foundation
import SockeyeInstallations

/// How an app's shared installations are kept in the key-value bucket
/// `sockeye_installations`. No I/O.
///
/// **Keys**: `<client id>.<installation id>`, each part with every byte outside
/// `[A-Za-z0-9_-]` made `_` (so `1111.2222` becomes `1111_2222`): the OAuth client id names
/// the Slack app the same way on every node, whatever the app is called in each node's
/// configuration. One key per installation; the bucket keeps its last value.
///
/// **Values**: one JSON object,
///
/// ```json
/// {"v":1,"client_id":"1111.2222","id":"T0123","state":"active","reason":null,
///  "updated_at":1700000000,"node":"node-a","key_id":"5f1c09ab","nonce":"<base64, 12 bytes>",
///  "sealed":"<base64: AES-256-GCM ciphertext and tag>"}
/// ```
///
/// The ids, state, reason, time and writing node are in clear (an operator reading the
/// bucket sees what is installed where). `sealed` is the installation as JSON (every field,
/// tokens included) for an active one, nothing for a revoked one, sealed with the app's
/// `InstallationSealKey` under a random nonce; the associated data binds the key name and
/// the clear fields to it, so a record moved to another key, or whose state, time, reason or
/// node was edited, does not open (an unsealed "revoked" cannot be forged without the client
/// secret). `key_id` names the key that sealed it.
package enum InstallationRecordCodec {
    package static let version = 1

    /// `text` as one key token: bytes outside `[A-Za-z0-9_-]` made `_`; `_` when empty.
    package static func token(_ text: String) -> String {
        let bytes = text.utf8.prefix(JetStreamNaming.maxTokenBytes).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"):
                byte
            default:
                UInt8(ascii: "_")
            }
        }
        return bytes.isEmpty ? "_" : String(decoding: bytes, as: UTF8.self)
    }

    /// The first token of every key of the app with OAuth client id `clientID`.
    package static func prefix(clientID: String) -> String { token(clientID) }

    /// The key of installation `id` of the app with client id `clientID`.
    package static func key(clientID: String, installationID: String) -> String {
        "\(prefix(clientID: clientID)).\(token(installationID))"
    }

    /// What a value read from the bucket is.
    package enum Decoded: Sendable, Equatable {
        case record(ReplicatedInstallation)
        /// Not a record this node can use: `id` when the clear part named one, `why` in words
        /// (no token: the sealed part was not opened), `keyID` the key that sealed it.
        case unreadable(id: String?, why: String, keyID: String?)
    }

    /// Why a record cannot be encoded.
    package struct EncodeError: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// The value of `record` under `key`, sealed with `sealKey`, written by `node`.
    package static func encode(_ record: ReplicatedInstallation, key: String, clientID: String, node: String,
                               sealKey: InstallationSealKey) throws(EncodeError) -> String {
        guard (record.state == .active) == (record.installation != nil) else {
            throw EncodeError(description: "installation \(record.id): an \(record.state.rawValue) record \(record.installation == nil ? "without" : "with") an installation")
        }
        var envelope = Envelope(v: version, client_id: clientID, id: record.id, state: record.state.rawValue, reason: record.reason,
                                updated_at: record.updatedAt, node: node, key_id: sealKey.id, nonce: "", sealed: "")
        var plain: [UInt8] = []
        if let installation = record.installation {
            do {
                plain = Array(try JSONEncoder().encode(SealedInstallation(installation)))
            } catch {
                throw EncodeError(description: "installation \(record.id) could not be encoded")
            }
        }
        defer { plain.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        let sealed: (nonce: [UInt8], sealed: [UInt8])
        do {
            sealed = try sealKey.seal(plain, aad: associatedData(key: key, envelope))
        } catch {
            throw EncodeError(description: "installation \(record.id): \(error.description)")
        }
        envelope.nonce = Data(sealed.nonce).base64EncodedString()
        envelope.sealed = Data(sealed.sealed).base64EncodedString()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(envelope) else { throw EncodeError(description: "installation \(record.id) could not be encoded") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The record `value` (read at `key`) holds, opened with `sealKey`.
    package static func decode(_ value: [UInt8], key: String, sealKey: InstallationSealKey) -> Decoded {
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(value)) else {
            return .unreadable(id: nil, why: "not a sockeye installation record", keyID: nil)
        }
        let keyID = envelope.key_id
        // The id is believed only once it matches the key the record was read at.
        guard Self.key(clientID: envelope.client_id, installationID: envelope.id) == key else {
            return .unreadable(id: nil, why: "its ids do not match its key", keyID: keyID)
        }
        func unreadable(_ why: String) -> Decoded { .unreadable(id: envelope.id, why: why, keyID: keyID) }
        guard envelope.v == version else { return unreadable("record version \(envelope.v), not \(version)") }
        guard let state = InstallationState(rawValue: envelope.state) else { return unreadable("unknown state \(envelope.state)") }
        guard let nonce = Data(base64Encoded: envelope.nonce).map(Array.init), let sealed = Data(base64Encoded: envelope.sealed).map(Array.init),
              var plain = sealKey.open(sealed, aad: associatedData(key: key, envelope), nonce: nonce)
        else {
            return unreadable(keyID == sealKey.id ? "it does not open (altered)" : "sealed with another client secret (key \(keyID), ours \(sealKey.id))")
        }
        defer { plain.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        switch state {
        case .revoked:
            guard plain.isEmpty else { return unreadable("a revoked record with sealed contents") }
            return .record(.revoked(id: envelope.id, reason: envelope.reason, updatedAt: envelope.updated_at))
        case .active:
            guard let sealedInstallation = try? JSONDecoder().decode(SealedInstallation.self, from: Data(plain)) else {
                return unreadable("its sealed installation is not one")
            }
            let installation = sealedInstallation.installation
            guard installation.id == envelope.id else { return unreadable("its sealed installation is another one") }
            return .record(.active(installation, updatedAt: envelope.updated_at))
        }
    }

    /// The clear fields bound to the sealed part, each length-prefixed (no two differ in the
    /// same bytes).
    static func associatedData(key: String, _ envelope: Envelope) -> [UInt8] {
        let fields = [InstallationSealKey.label, key, String(envelope.v), envelope.client_id, envelope.id, envelope.state,
                      envelope.reason.map { "1" + $0 } ?? "0", String(envelope.updated_at), envelope.node]
        var bytes: [UInt8] = []
        for field in fields {
            bytes += Array("\(field.utf8.count):".utf8) + Array(field.utf8)
        }
        return bytes
    }

    /// The value's JSON (field names as written).
    struct Envelope: Codable, Equatable {
        var v: Int
        var client_id: String
        var id: String
        var state: String
        var reason: String?
        var updated_at: Int64
        var node: String
        var key_id: String
        var nonce: String
        var sealed: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(v, forKey: .v)
            try container.encode(client_id, forKey: .client_id)
            try container.encode(id, forKey: .id)
            try container.encode(state, forKey: .state)
            try container.encode(reason, forKey: .reason)  // null when none, not left out
            try container.encode(updated_at, forKey: .updated_at)
            try container.encode(node, forKey: .node)
            try container.encode(key_id, forKey: .key_id)
            try container.encode(nonce, forKey: .nonce)
            try container.encode(sealed, forKey: .sealed)
        }
    }

    /// The sealed part: an installation, every field.
    struct SealedInstallation: Codable {
        struct Bot: Codable {
            var token: String
            var bot_id: String
            var bot_user_id: String
            var scopes: [String]
            var refresh_token: String?
            var expires_at: Int64?
        }

        struct User: Codable {
            var token: String
            var scopes: [String]
            var refresh_token: String?
            var expires_at: Int64?
        }

        var app_id: String
        var enterprise_id: String?
        var enterprise_name: String?
        var enterprise_url: String?
        var team_id: String?
        var team_name: String?
        var is_enterprise_install: Bool
        var bot: Bot?
        var installer_user_id: String
        var user: User?
        var token_type: String?
        var installed_at: Int64
        var updated_at: Int64

        init(_ installation: Installation) {
            app_id = installation.appID
            enterprise_id = installation.enterpriseID
            enterprise_name = installation.enterpriseName
            enterprise_url = installation.enterpriseURL
            team_id = installation.teamID
            team_name = installation.teamName
            is_enterprise_install = installation.isEnterpriseInstall
            bot = installation.bot.map {
                Bot(token: $0.token, bot_id: $0.botID, bot_user_id: $0.botUserID, scopes: $0.scopes, refresh_token: $0.refreshToken,
                    expires_at: $0.expiresAt)
            }
            installer_user_id = installation.installerUserID
            user = installation.user.map { User(token: $0.token, scopes: $0.scopes, refresh_token: $0.refreshToken, expires_at: $0.expiresAt) }
            token_type = installation.tokenType
            installed_at = installation.installedAt
            updated_at = installation.updatedAt
        }

        var installation: Installation {
            Installation(appID: app_id, enterpriseID: enterprise_id, enterpriseName: enterprise_name, enterpriseURL: enterprise_url,
                         teamID: team_id, teamName: team_name, isEnterpriseInstall: is_enterprise_install,
                         bot: bot.map {
                             BotCredentials(token: $0.token, botID: $0.bot_id, botUserID: $0.bot_user_id, scopes: $0.scopes,
                                            refreshToken: $0.refresh_token, expiresAt: $0.expires_at)
                         },
                         installerUserID: installer_user_id,
                         user: user.map { UserCredentials(token: $0.token, scopes: $0.scopes, refreshToken: $0.refresh_token, expiresAt: $0.expires_at) },
                         tokenType: token_type, installedAt: installed_at, updatedAt: updated_at)
        }
    }
}
