import Foundation
import SockeyeSinkKit

/// The installations of apps installed by OAuth on the status page and in `/status.json`:
/// id, name, kind, state and when the token expires — never a token.
extension StatusPage {
    /// The most installations the page lists per app (the JSON has them all).
    static let installationRowsShown = 200

    /// `/status.json`'s `installations`: by app name.
    func installationsJSON(_ snapshots: [String: [InstallationSnapshot]]) -> [String: Any] {
        let stamp = ISO8601DateFormatter()
        return snapshots.mapValues { list in
            list.map { installation -> [String: Any] in
                var entry: [String: Any] = ["id": installation.id, "is_enterprise_install": installation.isEnterpriseInstall,
                                            "state": installation.state]
                if let name = installation.name { entry["name"] = name }
                if let note = installation.note { entry["note"] = note }
                if let expiresAt = installation.expiresAt {
                    entry["token_expires_at"] = stamp.string(from: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
                }
                return entry
            }
        }
    }

    /// The installations table (empty when no app is installed by OAuth).
    func installationsTable(_ snapshots: [String: [InstallationSnapshot]]) -> String {
        guard !snapshots.isEmpty else { return "" }
        let stamp = ISO8601DateFormatter()
        var rows = ""
        for (app, list) in snapshots.sorted(by: { $0.key < $1.key }) {
            let active = list.filter { $0.state == "active" }.count
            if list.isEmpty {
                rows += "<tr><td class=name>\(escape(app))</td><td colspan=5 class=muted>no installation yet</td></tr>\n"
            }
            for installation in list.prefix(Self.installationRowsShown) {
                let expiry = installation.expiresAt.map { stamp.string(from: Date(timeIntervalSince1970: TimeInterval($0))) } ?? "-"
                rows += """
                    <tr class="\(installation.state == "active" ? "ok" : "bad")"><td class=name>\(escape(app))</td>\
                    <td>\(escape(installation.id))</td><td>\(escape(installation.name ?? "-"))</td>\
                    <td>\(installation.isEnterpriseInstall ? "organization" : "workspace")</td><td>\(escape(installation.state))</td>\
                    <td>\(expiry)</td><td>\(escape(installation.note ?? "-"))</td></tr>

                    """
            }
            if list.count > Self.installationRowsShown {
                rows += "<tr><td class=name>\(escape(app))</td><td colspan=6 class=muted>and \(list.count - Self.installationRowsShown) more "
                    + "(\(active) active in all; <a href=\"/status.json\">status.json</a> lists them)</td></tr>\n"
            }
        }
        return """
            <h2>installations</h2>
            <table><thead><tr><th>app</th><th>installation</th><th>name</th><th>kind</th><th>state</th><th>token expires</th>\
            <th>note</th></tr></thead>
            <tbody>
            \(rows)</tbody></table>
            """
    }
}
