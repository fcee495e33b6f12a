import SockeyeCore
import Testing

@Suite("URLs with credentials never show the password")
struct URLRedactionTests {
    static let password = "pA55w0rd-zq"

    @Test("redacting hides the password of parsable and unparsable URLs, and keeps the rest", arguments: [
        ("http://user:pA55w0rd-zq@proxy:8080", "http://user:***@proxy:8080"),
        ("http://user:pA55w0rd-zq/x@proxy:8080", "http://user:***@proxy:8080"),
        ("http://user:pA5@5w0rd-zq@proxy", "http://user:***@proxy"),
        ("user:pA55w0rd-zq@proxy:3128", "user:***@proxy:3128"),
        ("https://user:pA55w0rd-zq@bad host/", "https://user:***@bad host/"),
        ("http://proxy:3128", "http://proxy:3128"),
        ("http://user@proxy:3128", "http://user@proxy:3128"),
        ("", ""),
    ])
    func redacting(_ text: String, _ expected: String) {
        #expect(EndpointURL.redacting(text) == expected)
    }

    @Test("a password with an unencoded '/', '?' or '#' is refused without quoting any of it", arguments: [
        "http://user:pA55w0rd-zq/@proxy:8080", "http://user:pA55/w0rd-zq@proxy:8080",
        "http://user:pA55?w0rd-zq@proxy", "http://user:pA55#w0rd-zq@proxy",
    ])
    func unparsableProxyURL(_ text: String) throws {
        var caught: EndpointURLError?
        do throws(EndpointURLError) {
            _ = try ProxySettings.proxyURL(text)
        } catch {
            caught = error
        }
        let error = try #require(caught, "\(text) was accepted")
        for fragment in ["pA55", "w0rd", "zq"] {
            #expect(!error.description.contains(fragment), "\(error.description)")
            #expect(!"\(error)".contains(fragment), "\(error)")
        }
    }

    @Test("a password with a digit-only start and an unencoded '/' is not taken as a port and a path")
    func digitsBeforeSlash() {
        #expect(throws: EndpointURLError.misplacedUserinfo) { try ProxySettings.proxyURL("http://user:12/34@proxy:8080") }
    }

    @Test("an https:// proxy is refused, from a variable and in explicit settings, with an error that says to use http://")
    func httpsProxyRefused() throws {
        #expect(throws: EndpointURLError.httpsProxyUnsupported) { try ProxySettings.proxyURL("https://user:\(Self.password)@proxy:443") }
        let explicit = ProxySettings(httpsProxy: try EndpointURL("https://user:\(Self.password)@proxy:443"))
        var caught: EndpointURLError?
        do throws(EndpointURLError) { _ = try explicit.validated() } catch { caught = error }
        #expect(caught == .httpsProxyUnsupported)
        #expect(caught?.description.contains("use an http:// proxy URL") == true)
        #expect(caught?.description.contains(Self.password) == false)
        let plain = ProxySettings(httpsProxy: try EndpointURL("http://user:\(Self.password)@proxy:3128"))
        #expect(throws: Never.self) { _ = try plain.validated() }
    }
}
