import Glibc

/// The process environment, read once per call into a dictionary: what clients consult for
/// proxies (`HTTPS_PROXY`, `NO_PROXY` …) and `SSL_CERT_FILE`, without Foundation.
public enum ProcessEnvironment {
    /// Every `NAME=value` entry of `environ` now.
    public static func snapshot() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
