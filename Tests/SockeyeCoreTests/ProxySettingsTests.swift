import SockeyeCore
import Testing

@Suite("ProxySettings")
struct ProxySettingsTests {
    func settings(_ environment: [String: String]) -> ProxySettings? {
        try? ProxySettings(environment: environment)
    }

    func environmentError(_ environment: [String: String]) -> EndpointURLError? {
        do throws(EndpointURLError) {
            _ = try ProxySettings(environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("https_proxy serves wss and https targets, http_proxy serves ws and http targets")
    func schemeSelection() {
        let proxies = settings(["https_proxy": "http://secure-proxy:3128", "http_proxy": "http://plain-proxy:8080"])
        #expect(proxies?.proxy(for: endpoint("wss://wss-primary.slack.com/link/"))?.host == "secure-proxy")
        #expect(proxies?.proxy(for: endpoint("https://slack.com/api/"))?.host == "secure-proxy")
        #expect(proxies?.proxy(for: endpoint("ws://127.0.0.1:9000/"))?.host == "plain-proxy")
        #expect(proxies?.proxy(for: endpoint("http://sim:9000/"))?.port == 8080)
        let httpsOnly = settings(["HTTPS_PROXY": "proxy:3128"])
        #expect(httpsOnly?.proxy(for: endpoint("ws://sim/")) == nil)
        #expect(settings([:])?.proxy(for: endpoint("wss://h/")) == nil)
    }

    @Test("the lowercase variable wins over the uppercase one")
    func lowercaseWins() {
        let proxies = settings(["https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2", "no_proxy": "a.example", "NO_PROXY": "b.example"])
        #expect(proxies?.httpsProxy?.host == "lower")
        #expect(proxies?.noProxy == ["a.example"])
        #expect(settings(["HTTPS_PROXY": "http://upper:2"])?.httpsProxy?.host == "upper")
        #expect(settings(["NO_PROXY": "b.example,c.example"])?.noProxy == ["b.example", "c.example"])
    }

    @Test("uppercase HTTP_PROXY is ignored, as curl does (httpoxy)")
    func uppercaseHTTPProxyIgnored() {
        #expect(settings(["HTTP_PROXY": "http://attacker:80"])?.httpProxy == nil)
        #expect(settings(["HTTP_PROXY": "http://attacker:80", "http_proxy": "http://ok:80"])?.httpProxy?.host == "ok")
    }

    @Test("a proxy without scheme means http://, with port 80 when none is given")
    func schemeless() {
        let proxy = settings(["https_proxy": "proxy.corp.example:3128"])?.httpsProxy
        #expect(proxy?.scheme == .http && proxy?.host == "proxy.corp.example" && proxy?.port == 3128)
        #expect(settings(["https_proxy": "proxy.corp.example"])?.httpsProxy?.port == 80)
        #expect(settings(["https_proxy": "  http://p:1/  "])?.httpsProxy?.host == "p")
        let withCredentials = settings(["https_proxy": "alice:s%40cret@proxy:3128"])?.httpsProxy
        #expect(withCredentials?.user == "alice" && withCredentials?.password == "s@cret")
    }

    @Test("empty or blank variables count as unset, so the other spelling still applies")
    func emptyIsUnset() {
        #expect(settings(["https_proxy": "", "HTTPS_PROXY": "http://upper:1"])?.httpsProxy?.host == "upper")
        #expect(settings(["https_proxy": "  "])?.httpsProxy == nil)
        #expect(settings(["no_proxy": "", "NO_PROXY": "x"])?.noProxy == ["x"])
    }

    @Test("https:// and SOCKS proxies are refused with an error naming the problem")
    func unsupportedProxies() {
        #expect(environmentError(["https_proxy": "https://proxy:443"]) == .httpsProxyUnsupported)
        #expect(environmentError(["https_proxy": "HTTPS://proxy:443"]) == .httpsProxyUnsupported)
        #expect(environmentError(["HTTPS_PROXY": "socks5://proxy:1080"]) == .unsupportedProxyScheme("socks5"))
        #expect(environmentError(["http_proxy": "socks5h://proxy"]) == .unsupportedProxyScheme("socks5h"))
        #expect(environmentError(["https_proxy": "http://proxy:99999"]) == .badPort("99999"))
        #expect(environmentError(["https_proxy": "http://pro xy"]) == .invalidCharacter(offset: 10))
        #expect(environmentError(["no_proxy": "whatever, *"]) == nil)
    }

    /// (NO_PROXY entries, target, whether the target bypasses the proxy)
    static let noProxyTable: [(String, String, Bool)] = [
        ("*", "wss://anything.example/", true),
        (" * ", "wss://anything.example/", true),
        ("", "wss://slack.com/", false),
        (",, ,", "wss://slack.com/", false),
        ("slack.com", "wss://slack.com/", true),
        ("slack.com", "wss://wss-primary.slack.com/", true),
        (".slack.com", "wss://wss-primary.slack.com/", true),
        (".slack.com", "wss://slack.com/", true),
        ("*.slack.com", "wss://a.b.slack.com/", true),
        ("slack.com", "wss://badslack.com/", false),
        ("slack.com", "wss://slack.com.evil.example/", false),
        ("wss-primary.slack.com", "wss://slack.com/", false),
        ("SLACK.COM", "wss://Slack.Com/", true),
        ("slack.com.", "wss://slack.com/", true),
        ("slack.com", "wss://slack.com./", true),
        ("  internal.example  ,slack.com", "https://slack.com/api/", true),
        ("a.example,b.example", "https://c.example/", false),
        ("slack.com:443", "wss://slack.com/", true),
        ("slack.com:443", "wss://slack.com:8443/", false),
        ("slack.com:80", "ws://api.slack.com/", true),
        ("localhost", "ws://localhost:9000/", true),
        ("localhost", "ws://127.0.0.1:9000/", false),
        ("127.0.0.1", "ws://127.0.0.1:9000/", true),
        ("127.0.0.1", "ws://127.0.0.2/", false),
        ("127.0.0.1:9000", "ws://127.0.0.1:9000/", true),
        ("127.0.0.1:9000", "ws://127.0.0.1:9001/", false),
        ("10.0.0.0/8", "https://10.20.30.40/", true),
        ("10.0.0.0/8", "https://11.0.0.1/", false),
        ("192.168.1.0/24", "https://192.168.1.255/", true),
        ("192.168.1.0/24", "https://192.168.2.1/", false),
        ("0.0.0.0/0", "https://203.0.113.9/", true),
        ("10.0.0.0/8", "https://10.example/", false),
        ("10.0.0.0/33", "https://10.0.0.1/", false),
        ("10.0.0.1", "https://010.0.0.1/", false),
        ("::1", "http://[::1]:8080/", true),
        ("[::1]", "http://[::1]:8080/", true),
        ("[::1]:8080", "http://[::1]:8080/", true),
        ("[::1]:8080", "http://[::1]:8081/", false),
        ("0:0:0:0:0:0:0:1", "http://[::1]/", true),
        ("fd00::/8", "https://[fd12:3456::1]/", true),
        ("fd00::/8", "https://[fe80::1]/", false),
        ("2001:db8::/32", "https://[2001:db8:ffff::1]/", true),
        ("::1", "http://127.0.0.1/", false),
        ("127.0.0.1", "http://[::ffff:127.0.0.1]/", false),
        ("example.com/8", "https://example.com/", false),
    ]

    @Test("NO_PROXY entries match by curl's rules", arguments: noProxyTable)
    func noProxyMatching(entries: String, target: String, bypasses: Bool) {
        let proxies = ProxySettings(
            httpsProxy: endpoint("http://proxy:3128"), httpProxy: endpoint("http://proxy:3128"),
            noProxy: entries.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        #expect(proxies.bypasses(endpoint(target)) == bypasses)
        #expect((proxies.proxy(for: endpoint(target)) == nil) == bypasses)
    }

    @Test("NO_PROXY from the environment is split at commas")
    func noProxyFromEnvironment() {
        let proxies = settings(["https_proxy": "http://p:1", "no_proxy": "localhost, .internal.example,10.0.0.0/8"])
        #expect(proxies?.proxy(for: endpoint("https://svc.internal.example/")) == nil)
        #expect(proxies?.proxy(for: endpoint("https://10.1.1.1/")) == nil)
        #expect(proxies?.proxy(for: endpoint("https://slack.com/"))?.host == "p")
    }
}
