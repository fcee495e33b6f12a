import SockeyeCore
import Testing

@Suite("EndpointURL")
struct EndpointURLTests {
    @Test("a Socket Mode URL keeps its query, drops its fragment and gets wss's default port")
    func socketModeURL() {
        let url = endpoint("wss://wss-primary.slack.com/link/?ticket=324c3c5c&app_id=556e#frag")
        #expect(url.scheme == .wss && url.isSecure)
        #expect(url.host == "wss-primary.slack.com")
        #expect(url.port == 443)
        #expect(url.hostHeader == "wss-primary.slack.com")
        #expect(url.authority == "wss-primary.slack.com:443")
        #expect(url.requestTarget == "/link/?ticket=324c3c5c&app_id=556e")
        #expect(url.path == "/link/" && url.query == "ticket=324c3c5c&app_id=556e")
        #expect(url.user == nil && url.password == nil)
    }

    @Test("default ports are 80 for ws/http and 443 for wss/https; the Host header names only other ports")
    func defaultPorts() {
        #expect(endpoint("ws://h").port == 80 && !endpoint("ws://h").isSecure)
        #expect(endpoint("http://h").port == 80)
        #expect(endpoint("https://h").port == 443 && endpoint("https://h").isSecure)
        #expect(endpoint("https://h:443/").hostHeader == "h")
        #expect(endpoint("http://h:80/").hostHeader == "h")
        #expect(endpoint("https://h:8443/").hostHeader == "h:8443")
        #expect(endpoint("http://h:443/").hostHeader == "h:443")
        #expect(endpoint("http://h:/x").port == 80)  // RFC 3986: an empty port is the default
    }

    @Test("scheme and host are lowercased; path and query keep their case")
    func caseFolding() {
        let url = endpoint("HTTPS://Slack.COM/API/Method?Q=A")
        #expect(url.scheme == .https && url.host == "slack.com")
        #expect(url.requestTarget == "/API/Method?Q=A")
        #expect(endpoint("https://slack.com./").host == "slack.com.")
    }

    @Test("an empty path is sent as /, also when there is a query")
    func emptyPath() {
        #expect(endpoint("http://h").requestTarget == "/")
        #expect(endpoint("http://h?x=1").requestTarget == "/?x=1")
        #expect(endpoint("http://h#top").requestTarget == "/")
        #expect(endpoint("http://h/?").requestTarget == "/?")
    }

    @Test("IPv6 hosts lose their brackets and get them back in Host and authority")
    func ipv6() {
        let local = endpoint("http://[::1]:8080/path")
        #expect(local.host == "::1" && local.port == 8080)
        #expect(local.hostHeader == "[::1]:8080")
        #expect(local.authority == "[::1]:8080")
        let global = endpoint("wss://[2001:DB8::a:1]/x")
        #expect(global.host == "2001:db8::a:1" && global.port == 443)
        #expect(global.hostHeader == "[2001:db8::a:1]")
        #expect(endpoint("http://[::ffff:192.0.2.1]/").host == "::ffff:192.0.2.1")
        #expect(endpoint("http://[1:2:3:4:5:6:7:8]/").host == "1:2:3:4:5:6:7:8")
    }

    @Test("the userinfo is percent-decoded into user and password")
    func userinfo() {
        let url = endpoint("http://us%40er:p%3Ass%20w%C3%B6rd@proxy.corp:3128")
        #expect(url.user == "us@er" && url.password == "p:ss wörd")
        #expect(url.host == "proxy.corp" && url.port == 3128)
        #expect(endpoint("http://alice@proxy").user == "alice" && endpoint("http://alice@proxy").password == nil)
        #expect(endpoint("http://alice:@proxy").password == "")
        // The last @ ends the userinfo (a raw @ in a password is common in proxy settings).
        let raw = endpoint("http://bob:se@cret@proxy:8080")
        #expect(raw.user == "bob" && raw.password == "se@cret" && raw.host == "proxy")
    }

    @Test("description never shows the password and drops the fragment")
    func description() {
        #expect(endpoint("http://bob:hunter2@proxy:3128/#x").description == "http://bob:***@proxy:3128/")
        #expect(endpoint("http://b%20ob@proxy").description == "http://b%20ob@proxy/")
        #expect(endpoint("wss://h/link/?t=1").description == "wss://h/link/?t=1")
    }

    @Test("appendingPath puts a method below the API base, adding the slash if missing")
    func appendingPath() {
        let method = "apps.connections.open"
        #expect(endpoint("https://slack.com/api/").appendingPath(method).requestTarget == "/api/apps.connections.open")
        #expect(endpoint("https://slack.com/api").appendingPath(method).requestTarget == "/api/apps.connections.open")
        #expect(endpoint("http://127.0.0.1:9000").appendingPath(method).requestTarget == "/apps.connections.open")
        #expect(endpoint("https://h/api/?x=1#f").appendingPath("/m").requestTarget == "/api/m")
        #expect(endpoint("https://h/api/").appendingPath("a b?#%").requestTarget == "/api/a%20b%3F%23%25")
        let appended = endpoint("http://127.0.0.1:9000/api").appendingPath(method)
        #expect(appended.host == "127.0.0.1" && appended.port == 9000 && appended.scheme == .http)
    }

    @Test("absolute form carries scheme, Host and target, never the userinfo")
    func absoluteForm() {
        #expect(endpoint("http://u:p@h:8080/a?b").absoluteForm == "http://h:8080/a?b")
        #expect(endpoint("http://h").absoluteForm == "http://h/")
    }

    @Test("every kind of mistake has its own error", arguments: [
        ("", EndpointURLError.empty),
        ("slack.com/api", .missingScheme),
        ("localhost:8080", .missingScheme),
        ("https:/slack.com", .missingScheme),
        ("://slack.com", .missingScheme),
        ("1http://h", .missingScheme),
        ("ftp://files.example", .unsupportedScheme("ftp")),
        ("SOCKS5://proxy", .unsupportedScheme("SOCKS5")),
        ("https:///api", .emptyHost),
        ("https://:443/", .emptyHost),
        ("http://user@/", .emptyHost),
        ("https://h:0/", .badPort("0")),
        ("https://h:65536/", .badPort("65536")),
        ("https://h:99999999999999999999/", .badPort("99999999999999999999")),
        ("https://h:8o8o/", .badPort("8o8o")),
        ("https://h:-1/", .badPort("-1")),
        ("https://[::1/", .badIPv6("::1")),
        ("https://[1:2:3]/", .badIPv6("1:2:3")),
        ("https://[fe80::1%25eth0]/", .badIPv6("fe80::1%25eth0")),
        ("https://[::1::2]/", .badIPv6("::1::2")),
        ("https://[12345::]/", .badIPv6("12345::")),
        ("https://[1:2:3:4:5:6:7:8:9]/", .badIPv6("1:2:3:4:5:6:7:8:9")),
        ("https://[::256.1.1.1]/", .badIPv6("::256.1.1.1")),
        ("https://[]/", .badIPv6("")),
        ("https://[::1]x/", .invalidHost("[::1]x")),
        ("https://::1/", .invalidHost("::1")),
        ("http://a^b/", .invalidHost("a^b")),
        ("http://a%41/", .invalidHost("a%41")),
        ("http://.example/", .invalidHost(".example")),
        ("http://a..b:80/", .invalidHost("a..b")),
        ("https://sl ack.com", .invalidCharacter(offset: 10)),
        ("https://h/a\r\nX-Injected: 1", .invalidCharacter(offset: 11)),
        ("https://h/caf\u{E9}", .invalidCharacter(offset: 13)),
        ("\thttps://h", .invalidCharacter(offset: 0)),
        ("http://b%zzob@proxy", .badPercentEncoding),
        ("http://bob:pw%4@proxy", .badPercentEncoding),
        ("http://bob:%FF@proxy", .badPercentEncoding),
    ])
    func errors(input: String, expected: EndpointURLError) {
        #expect(urlError(input) == expected)
    }

    @Test("error descriptions name the problem and differ from one another")
    func errorDescriptions() {
        let errors: [EndpointURLError] = [
            .empty, .missingScheme, .unsupportedScheme("ftp"), .emptyHost, .invalidHost("a^b"), .badPort("0"),
            .badIPv6("1:2"), .invalidCharacter(offset: 3), .badPercentEncoding, .httpsProxyUnsupported,
            .unsupportedProxyScheme("socks5"),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
        #expect(EndpointURLError.unsupportedScheme("ftp").description.contains("\"ftp\""))
        #expect(EndpointURLError.badPort("99999").description.contains("99999"))
        #expect(EndpointURLError.invalidCharacter(offset: 7).description.contains("byte 7"))
    }

    @Test("equal URLs are equal and hash alike; the fragment does not count")
    func hashable() {
        #expect(endpoint("https://H/x?y#a") == endpoint("https://h/x?y#b"))
        #expect(Set([endpoint("https://h/"), endpoint("HTTPS://h/")]).count == 1)
        #expect(endpoint("https://h/") != endpoint("https://h:8443/"))
    }
}
