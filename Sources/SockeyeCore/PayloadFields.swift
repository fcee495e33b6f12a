/// The fields a router or filter needs from an envelope's `payload` that the envelope scan
/// does not return: the channel, the author, the bot, the slash command. One pass over the
/// payload's bytes, no allocation; views index into the buffer scanned, like `Envelope`'s.
///
/// Where each comes from, by payload shape:
/// - Events API (`event_callback`): `event.channel` (or `event.item.channel` for reactions,
///   `event.channel.id` when the channel is an object), `event.user`, `event.bot_id`;
/// - slash commands: `channel_id`, `user_id`, `command`;
/// - interactive payloads: `channel.id` (or `container.channel_id`), `user.id`.
public struct PayloadFields: Sendable, Hashable {
    /// The channel id (`C…`, `D…`, `G…`), absent when the payload names none.
    public var channel: ByteView = .absent
    /// The user who caused the event.
    public var user: ByteView = .absent
    /// `event.bot_id`: present when a bot (possibly this app's) authored the event.
    public var botID: ByteView = .absent
    /// The slash command (`/deploy`).
    public var command: ByteView = .absent
    /// The top-level `api_app_id`: the Slack app the payload is for (events, interactions
    /// and slash commands carry it).
    public var apiAppID: ByteView = .absent
    /// The workspace and org the payload comes from (which installation it is for).
    public var tenant = PayloadTenant()

    /// Every field absent.
    public init() {}

    /// Reads the fields from `payload`, the bytes of a JSON object (an envelope's `payload`
    /// view). Throws the scanner's error when the bytes are not valid JSON.
    public static func read(_ payload: UnsafeRawBufferPointer) throws(ScanError) -> PayloadFields {
        var fields = PayloadFields()
        guard let base = payload.baseAddress, payload.count > 0 else { return fields }
        var cursor = JSONCursor(base: base.assumingMemoryBound(to: UInt8.self), count: payload.count,
                                maxDepth: ScanOptions.default.maxDepth)
        cursor.skipWhitespace()
        guard try cursor.peek() == 0x7B else { return fields }
        var containerChannel = ByteView.absent
        try cursor.scanMembers(depth: 1) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
            switch Self.name(key, cursor) {
            case .event:
                try Self.event(&cursor, into: &fields)
            case .channelID:
                fields.channel = try Self.string(&cursor, depth: 1)
            case .userID:
                fields.user = try Self.string(&cursor, depth: 1)
            case .command:
                fields.command = try Self.string(&cursor, depth: 1)
            case .apiAppID:
                fields.apiAppID = try Self.string(&cursor, depth: 1)
            case .channel:
                fields.channel = try Self.idOrString(&cursor, depth: 1)
            case .user:
                fields.user = try Self.user(&cursor, tenant: &fields.tenant)
            case .teamID:
                fields.tenant.teamIDField = try Self.string(&cursor, depth: 1)
            case .team:
                try Self.team(&cursor, tenant: &fields.tenant)
            case .enterpriseID:
                fields.tenant.enterpriseIDField = try Self.string(&cursor, depth: 1)
            case .enterprise:
                fields.tenant.enterprise = try Self.idOrString(&cursor, depth: 1)
            case .isEnterpriseInstall:
                fields.tenant.isEnterpriseInstallField = try Self.flag(&cursor, depth: 1)
            case .authorizations:
                try Self.authorizations(&cursor, tenant: &fields.tenant)
            case .view:
                try Self.members(&cursor, depth: 1) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
                    switch name {
                    case .appInstalledTeamID: fields.tenant.viewInstalledTeamID = try Self.string(&cursor, depth: 2)
                    case .teamID: fields.tenant.viewTeamID = try Self.string(&cursor, depth: 2)
                    default: try cursor.skipValue(depth: 2)
                    }
                }
            case .container:
                try Self.members(&cursor, depth: 1) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
                    if name == .channelID { containerChannel = try Self.string(&cursor, depth: 2) } else { try cursor.skipValue(depth: 2) }
                }
            default:
                try cursor.skipValue(depth: 1)
            }
        }
        if !fields.channel.isPresent { fields.channel = containerChannel }
        return fields
    }

    /// The members of `event`.
    private static func event(_ cursor: inout JSONCursor, into fields: inout PayloadFields) throws(ScanError) {
        var itemChannel = ByteView.absent
        try members(&cursor, depth: 1) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
            switch name {
            case .channel: fields.channel = try idOrString(&cursor, depth: 2)
            case .user: fields.user = try idOrString(&cursor, depth: 2)
            case .botID: fields.botID = try string(&cursor, depth: 2)
            case .item:
                try members(&cursor, depth: 2) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
                    if name == .channel { itemChannel = try string(&cursor, depth: 3) } else { try cursor.skipValue(depth: 3) }
                }
            default: try cursor.skipValue(depth: 2)
            }
        }
        if !fields.channel.isPresent { fields.channel = itemChannel }
    }

    /// The top-level `user`: a string, or an object whose `id` is the user and whose
    /// `team_id` is the user's workspace (interactive payloads).
    private static func user(_ cursor: inout JSONCursor, tenant: inout PayloadTenant) throws(ScanError) -> ByteView {
        cursor.skipWhitespace()
        if try cursor.peek() == 0x22 { return try cursor.scanString() }
        var id = ByteView.absent
        try members(&cursor, depth: 1) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
            switch name {
            case .id: id = try string(&cursor, depth: 2)
            case .teamID: tenant.userTeamID = try string(&cursor, depth: 2)
            default: try cursor.skipValue(depth: 2)
            }
        }
        return id
    }

    /// The top-level `team`: a string, or an object with `id` and `enterprise_id`.
    private static func team(_ cursor: inout JSONCursor, tenant: inout PayloadTenant) throws(ScanError) {
        cursor.skipWhitespace()
        if try cursor.peek() == 0x22 {
            tenant.team = try cursor.scanString()
            return
        }
        try members(&cursor, depth: 1) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
            switch name {
            case .id: tenant.team = try string(&cursor, depth: 2)
            case .enterpriseID: tenant.teamEnterpriseID = try string(&cursor, depth: 2)
            default: try cursor.skipValue(depth: 2)
            }
        }
    }

    /// `authorizations`: the first element's ids and flag; the rest are only validated.
    private static func authorizations(_ cursor: inout JSONCursor, tenant: inout PayloadTenant) throws(ScanError) {
        cursor.skipWhitespace()
        guard try cursor.peek() == 0x5B else { return try cursor.skipValue(depth: 1) }
        try cursor.checkDepth(2)
        cursor.index += 1
        cursor.skipWhitespace()
        if try cursor.peek() == 0x5D {
            cursor.index += 1
            return
        }
        tenant.hasAuthorization = true
        try members(&cursor, depth: 2) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
            switch name {
            case .enterpriseID: tenant.authorizationEnterpriseID = try string(&cursor, depth: 3)
            case .teamID: tenant.authorizationTeamID = try string(&cursor, depth: 3)
            case .userID: tenant.authorizationUserID = try string(&cursor, depth: 3)
            case .isEnterpriseInstall: tenant.authorizationIsEnterpriseInstall = try flag(&cursor, depth: 3)
            default: try cursor.skipValue(depth: 3)
            }
        }
        while true {
            cursor.skipWhitespace()
            let byte = try cursor.peek()
            cursor.index += 1
            if byte == 0x5D { return }
            guard byte == 0x2C else { throw ScanError(.unexpectedByte, at: cursor.index - 1) }
            try cursor.skipValue(depth: 2)
        }
    }

    /// `true` or `"true"` (slash commands send the flag as a string); nil for null, other
    /// strings count as false; any other value is skipped as false.
    private static func flag(_ cursor: inout JSONCursor, depth: Int) throws(ScanError) -> Bool? {
        cursor.skipWhitespace()
        switch try cursor.peek() {
        case 0x74, 0x66, 0x6E:
            return try cursor.scanLiteral()
        case 0x22:
            let view = try cursor.scanString()
            return KeyMatching.withName(view, base: cursor.base) { bytes in KeyMatching.equals(bytes, "true") }
        default:
            try cursor.skipValue(depth: depth)
            return false
        }
    }

    /// The key names this reader looks for; others are `nil`.
    private enum Name {
        case event, channelID, userID, command, channel, user, container, botID, item, id, apiAppID
        case team, teamID, enterprise, enterpriseID, isEnterpriseInstall, authorizations, view, appInstalledTeamID
    }

    private static let wanted: [(StaticString, Name)] = [
        ("event", .event), ("channel_id", .channelID), ("user_id", .userID), ("command", .command), ("channel", .channel),
        ("user", .user), ("container", .container), ("bot_id", .botID), ("item", .item), ("id", .id),
        ("api_app_id", .apiAppID), ("team", .team), ("team_id", .teamID), ("enterprise", .enterprise),
        ("enterprise_id", .enterpriseID), ("is_enterprise_install", .isEnterpriseInstall),
        ("authorizations", .authorizations), ("view", .view), ("app_installed_team_id", .appInstalledTeamID),
    ]

    private static func name(_ key: ByteView, _ cursor: JSONCursor) -> Name? {
        KeyMatching.withName(key, base: cursor.base) { bytes in
            for (candidate, name) in wanted where KeyMatching.equals(bytes, candidate) { return name }
            return nil
        }
    }

    /// Walks an object value (skips any other value) calling `member` with known names.
    private static func members(
        _ cursor: inout JSONCursor, depth: Int, _ member: (inout JSONCursor, Name?) throws(ScanError) -> Void
    ) throws(ScanError) {
        cursor.skipWhitespace()
        guard try cursor.peek() == 0x7B else { return try cursor.skipValue(depth: depth) }
        try cursor.scanMembers(depth: depth + 1) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
            try member(&cursor, name(key, cursor))
        }
    }

    private static func string(_ cursor: inout JSONCursor, depth: Int) throws(ScanError) -> ByteView {
        cursor.skipWhitespace()
        if try cursor.peek() == 0x22 { return try cursor.scanString() }
        try cursor.skipValue(depth: depth)
        return .absent
    }

    /// A string, or the `id` member of an object (`"channel": {"id": "C1", …}`).
    private static func idOrString(_ cursor: inout JSONCursor, depth: Int) throws(ScanError) -> ByteView {
        cursor.skipWhitespace()
        if try cursor.peek() == 0x22 { return try cursor.scanString() }
        var id = ByteView.absent
        try members(&cursor, depth: depth) { (cursor: inout JSONCursor, name: Name?) throws(ScanError) in
            if name == .id { id = try string(&cursor, depth: depth + 1) } else { try cursor.skipValue(depth: depth + 1) }
        }
        return id
    }
}
