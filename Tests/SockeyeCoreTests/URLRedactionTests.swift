import SockeyeCore
import Testing

@Suite("URLs with credentials never show the password; logs and pages show no query either")
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
        #expect(URLRedaction.maskingPassword(text) == expected)
    }

    @Test("url drops credentials, query and fragment; text that is not a URL is not shown", arguments: [
        ("https://user:pw@host/p?token=x", "https://host/p"),
        ("https://host:8443/p/q#frag", "https://host:8443/p/q"),
        ("http://user@[::1]:80?x=@y/", "http://[::1]:80"),
        ("http://user@host/p?mail=a@b", "http://host/p"),
        ("https://host/p/q?token=x@y", "https://host/p/q"),
        ("http://user:pA5@5w0rd-zq@proxy/p", "http://proxy/p"),
        ("http://user:pA55w0rd-zq/x@proxy:8080/p", "http://proxy:8080/p"),
        ("http://user:pA55?w0rd-zq@proxy/p", "http://proxy/p"),
        ("http://user:pA55#w0rd-zq@proxy/p", "http://proxy/p"),
        ("not a url with pw", "(not a URL)"),
        ("://host", "(not a URL)"),
    ])
    func url(_ text: String, _ expected: String) {
        #expect(URLRedaction.url(text) == expected)
    }

    @Test("urls(in:) redacts every URL in free text and keeps the text around it", arguments: [
        ("sink f: http://u:p@h:1/x?t=s: connection refused", "sink f: http://h:1/x: connection refused"),
        ("a (wss://h/link?ticket=abc) b ://x", "a (wss://h/link) b (a URL)"),
        ("two: http://a:b@h1/p, https://h2/q?k=v.", "two: http://h1/p, https://h2/q."),
        ("no urls here", "no urls here"),
        ("", ""),
    ])
    func urlsInText(_ text: String, _ expected: String) {
        #expect(URLRedaction.urls(in: text) == expected)
    }

    @Test("no form ever shows any part of a password, however the URL is written", arguments: [
        "http://user:pA55w0rd-zq@proxy:8080", "http://user:pA55/w0rd-zq@proxy:8080/p?q=1",
        "http://user:pA55@w0rd-zq@proxy", "http://user:pA55?w0rd-zq@proxy#f", "http://user:pA55#w0rd-zq@proxy",
        "http://user:pA55w0rd-zq/@proxy:8080", "user:pA55w0rd-zq@proxy:3128", "https://user:pA55w0rd-zq@bad host/",
        "http://a@b:pA55w0rd-zq@proxy", "http://user:pA55w0rd-zq@[::1]:80/x@y",
    ])
    func passwordNeverShown(_ text: String) {
        var forms = [URLRedaction.maskingPassword(text), URLRedaction.url(text)]
        // Free text is searched for `scheme://`: a URL without a scheme is not recognisable there.
        if text.contains("://") { forms.append(URLRedaction.urls(in: "failed: \(text): refused")) }
        for form in forms {
            for fragment in ["pA55", "w0rd", "zq"] {
                #expect(!form.contains(fragment), "\(text) shown as \(form)")
            }
        }
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
