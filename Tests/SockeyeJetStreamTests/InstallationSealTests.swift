import CSockeyeOpenSSL
import Foundation
import SockeyeInstallations
import Testing

@testable import SockeyeJetStream

/// Installations for the replica's tests: tokens named after the team and a generation, so a
/// test can look for their text anywhere.
enum ReplicaFixture {
    static let clientID = "1111.2222"
    static let secret = "simclientsecret"

    static func install(_ team: String = "T1", generation: Int = 1, at time: Int64 = 1_700_000_000) -> Installation {
        Installation(appID: "A0SIMAPP01", teamID: team, teamName: "Team \(team)",
                     bot: BotCredentials(token: "xoxe.xoxb-1-bot-\(team)-\(generation)", botID: "B\(team)", botUserID: "U\(team)bot",
                                         scopes: ["chat:write"], refreshToken: "xoxe-1-botrefresh-\(team)-\(generation)", expiresAt: time + 43_200),
                     installerUserID: "U\(team)installer",
                     user: UserCredentials(token: "xoxe.xoxp-1-user-\(team)-\(generation)", scopes: ["search:read"],
                                           refreshToken: "xoxe-1-userrefresh-\(team)-\(generation)", expiresAt: time + 43_000),
                     installedAt: time)
    }

    static func secrets(of installation: Installation) -> [String] {
        [installation.bot?.token, installation.bot?.refreshToken, installation.user?.token, installation.user?.refreshToken].compactMap { $0 }
    }
}

@Suite("installation records: AES-256-GCM sealing and the bucket's value format")
struct InstallationSealTests {
    private let key = InstallationSealKey(clientSecret: ReplicaFixture.secret)
    private let aad = Array("1111_2222.T1".utf8)

    @Test("sealed bytes open with the same key, nonce and associated data; a fresh nonce every time")
    func roundTrip() throws {
        let plain = Array("xoxb-secret-token".utf8)
        let first = try key.seal(plain, aad: aad)
        let second = try key.seal(plain, aad: aad)
        #expect(first.nonce.count == 12 && first.sealed.count == plain.count + 16)
        #expect(first.nonce != second.nonce && first.sealed != second.sealed)
        #expect(key.open(first.sealed, aad: aad, nonce: first.nonce) == plain)
        #expect(key.open(second.sealed, aad: aad, nonce: second.nonce) == plain)
        // Nothing sealed (a revoked record) is a tag alone, and opens to nothing.
        let empty = try key.seal([], aad: aad)
        #expect(empty.sealed.count == 16 && key.open(empty.sealed, aad: aad, nonce: empty.nonce) == [])
    }

    @Test("tampered ciphertext or tag, another key name, another nonce or another client secret: nothing opens")
    func failures() throws {
        let plain = Array("xoxb-secret-token".utf8)
        let (nonce, sealed) = try key.seal(plain, aad: aad)
        for index in [0, plain.count - 1, plain.count, sealed.count - 1] {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(key.open(tampered, aad: aad, nonce: nonce) == nil, "byte \(index)")
        }
        #expect(key.open(Array(sealed.dropLast()), aad: aad, nonce: nonce) == nil)
        #expect(key.open(Array(sealed.prefix(15)), aad: aad, nonce: nonce) == nil)
        #expect(key.open(sealed, aad: Array("1111_2222.T2".utf8), nonce: nonce) == nil)
        #expect(key.open(sealed, aad: [], nonce: nonce) == nil)
        var otherNonce = nonce
        otherNonce[0] ^= 0x80
        #expect(key.open(sealed, aad: aad, nonce: otherNonce) == nil)
        let other = InstallationSealKey(clientSecret: "anothersecret")
        #expect(other.id != key.id)
        #expect(other.open(sealed, aad: aad, nonce: nonce) == nil)
        #expect(InstallationSealKey(clientSecret: ReplicaFixture.secret).open(sealed, aad: aad, nonce: nonce) == plain)
    }

    @Test("the C functions refuse bad arguments and wipe the output of a failed open")
    func cArguments() {
        let keyBytes = [UInt8](repeating: 7, count: 32)
        let nonce = [UInt8](repeating: 1, count: 12)
        var out = [UInt8](repeating: 0xAA, count: 64)
        #expect(sockeye_aead_seal(keyBytes, nonce, nil, 0, nil, 5, &out) == -1)
        #expect(sockeye_aead_open(keyBytes, nonce, nil, 0, out, 15, &out) == -1)
        let sealedCount = sockeye_aead_seal(keyBytes, nonce, nil, 0, Array("hello".utf8), 5, &out)
        #expect(sealedCount == 21)
        var sealed = Array(out.prefix(21))
        sealed[0] ^= 1
        var opened = [UInt8](repeating: 0xAA, count: 5)
        #expect(sockeye_aead_open(keyBytes, nonce, nil, 0, sealed, 21, &opened) == -1)
        #expect(opened == [0, 0, 0, 0, 0])
    }

    @Test("keys: the client id and installation id as tokens")
    func keys() {
        #expect(InstallationRecordCodec.key(clientID: "1111.2222", installationID: "T0SIM0002") == "1111_2222.T0SIM0002")
        #expect(InstallationRecordCodec.key(clientID: "a b*c>", installationID: "") == "a_b_c_._")
    }

    @Test("a value: ids, state and time in clear, the installation sealed; it reads back whole; no token in its text")
    func valueRoundTrip() throws {
        let installation = ReplicaFixture.install("T1")
        let record = ReplicatedInstallation.active(installation, updatedAt: 1_700_000_100)
        let key = InstallationRecordCodec.key(clientID: ReplicaFixture.clientID, installationID: "T1")
        let value = try InstallationRecordCodec.encode(record, key: key, clientID: ReplicaFixture.clientID, node: "node-a", sealKey: self.key)
        for secret in ReplicaFixture.secrets(of: installation) { #expect(!value.contains(secret)) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any])
        #expect(object["id"] as? String == "T1" && object["state"] as? String == "active" && object["updated_at"] as? Int == 1_700_000_100)
        #expect(object["client_id"] as? String == "1111.2222" && object["node"] as? String == "node-a" && object["key_id"] as? String == self.key.id)
        #expect(InstallationRecordCodec.decode(Array(value.utf8), key: key, sealKey: self.key) == .record(record))

        let revoked = ReplicatedInstallation.revoked(id: "T1", reason: "app_uninstalled", updatedAt: 1_700_000_200)
        let revokedValue = try InstallationRecordCodec.encode(revoked, key: key, clientID: ReplicaFixture.clientID, node: "node-b", sealKey: self.key)
        #expect(InstallationRecordCodec.decode(Array(revokedValue.utf8), key: key, sealKey: self.key) == .record(revoked))
    }

    @Test("a value moved to another key, with an edited clear field, or sealed with another secret is unreadable")
    func unreadableValues() throws {
        let record = ReplicatedInstallation.active(ReplicaFixture.install("T1"), updatedAt: 1_700_000_100)
        let key = "1111_2222.T1"
        let value = try InstallationRecordCodec.encode(record, key: key, clientID: ReplicaFixture.clientID, node: "node-a", sealKey: self.key)
        // Another key: its ids do not match.
        guard case .unreadable(nil, _, _) = InstallationRecordCodec.decode(Array(value.utf8), key: "1111_2222.T2", sealKey: self.key) else {
            Issue.record("a record read at another key was accepted")
            return
        }
        // The time or state edited in clear: the seal no longer opens.
        for (from, to) in [("\"updated_at\":1700000100", "\"updated_at\":1900000000"), ("\"state\":\"active\"", "\"state\":\"revoked\""),
                           ("\"node\":\"node-a\"", "\"node\":\"node-x\"")] {
            let edited = value.replacingOccurrences(of: from, with: to)
            #expect(edited != value)
            guard case .unreadable("T1", let why, _) = InstallationRecordCodec.decode(Array(edited.utf8), key: key, sealKey: self.key) else {
                Issue.record("an edited record (\(to)) was accepted")
                continue
            }
            #expect(why.contains("altered"))
        }
        // Another client secret.
        let other = InstallationSealKey(clientSecret: "rotatedsecret")
        guard case .unreadable("T1", let why, let keyID) = InstallationRecordCodec.decode(Array(value.utf8), key: key, sealKey: other) else {
            Issue.record("a record sealed with another secret was accepted")
            return
        }
        #expect(why.contains("another client secret") && keyID == self.key.id)
        #expect(InstallationRecordCodec.decode(Array("{}".utf8), key: key, sealKey: self.key) == .unreadable(id: nil, why: "not a sockeye installation record", keyID: nil))
    }
}
