/// A complete HTTP/1.1 response, as `HTTPResponseParser` read it.
public struct HTTPResponse: Sendable, Hashable {
    /// The status code, 100…599.
    public var status: Int
    /// The reason phrase (may be empty; carries no meaning, only for logs).
    public var reason: String
    /// The header fields in the order received.
    public var headers: [HTTPHeader]
    /// The body, after removing the chunked transfer coding if it was used.
    public var body: [UInt8]
    /// The trailer fields of a chunked body, in the order received (kept apart from
    /// `headers`: a trailer must not be able to override a header).
    public var trailers: [HTTPHeader]
    /// The minor version of the status line: 1 for `HTTP/1.1`, 0 for `HTTP/1.0`.
    public var minorVersion: Int

    /// A response.
    public init(status: Int, reason: String = "", headers: [HTTPHeader] = [], body: [UInt8] = [], trailers: [HTTPHeader] = [],
                minorVersion: Int = 1) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.minorVersion = minorVersion
    }

    /// Whether the server keeps the connection open after this response (RFC 9112 §9.3): an
    /// HTTP/1.1 response unless it says `Connection: close`; an HTTP/1.0 one only if it says
    /// `Connection: keep-alive`. A client must not send another request on it otherwise: the
    /// server closes it, and a request sent meanwhile is lost with no way to know whether the
    /// server read it.
    public var keepsConnectionOpen: Bool {
        var close = false
        var keepAlive = false
        for header in headers where header.hasName("Connection") {
            for option in header.value.split(separator: ",") {
                let token = option.filter { $0 != " " && $0 != "\t" }.lowercased()
                if token == "close" { close = true } else if token == "keep-alive" { keepAlive = true }
            }
        }
        if close { return false }
        return minorVersion >= 1 || keepAlive
    }

    /// The value of the first header named `name` (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        headers.first { $0.hasName(name) }?.value
    }

    /// `Retry-After` as a duration, or `nil` when absent or unreadable.
    ///
    /// Delta-seconds (`Retry-After: 30`, what Slack sends) is read as is. An HTTP-date is read
    /// only in the preferred IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`) and only
    /// relative to the response's own `Date` header (the core has no wall clock): the
    /// difference, or zero when the date is not later. The obsolete RFC 850 and asctime date
    /// forms give `nil`.
    public var retryAfter: Duration? {
        guard let value = header("Retry-After") else { return nil }
        let bytes = Array(value.utf8)
        if let first = bytes.first, first >= 0x30 && first <= 0x39 {
            var seconds: Int64 = 0
            for byte in bytes {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                // Saturate: a huge value means "much later", not an error.
                seconds = seconds > Int64.max / 10 - 1 ? Int64.max / 10 : seconds * 10 + Int64(byte - 0x30)
            }
            return .seconds(seconds)
        }
        guard let retryAt = HTTPDate.seconds(bytes), let dateText = header("Date"),
            let now = HTTPDate.seconds(Array(dateText.utf8))
        else { return nil }
        return .seconds(max(retryAt - now, 0))
    }
}

/// IMF-fixdate (RFC 9110 §5.6.7) to seconds since 1970, without a calendar library.
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// `Sun, 06 Nov 1994 08:49:37 GMT` exactly, or `nil`.
    static func seconds(_ text: [UInt8]) -> Int64? {
        guard text.count == 29 else { return nil }
        func word(_ range: Range<Int>) -> String { String(decoding: text[range], as: UTF8.self) }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in text[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard days.contains(word(0..<3)), word(3..<5) == ", ", text[7] == 0x20, text[11] == 0x20, text[16] == 0x20,
            text[19] == 0x3A, text[22] == 0x3A, word(25..<29) == " GMT",
            let day = number(5..<7), let monthIndex = months.firstIndex(of: word(8..<11)), let year = number(12..<16),
            let hour = number(17..<19), let minute = number(20..<22), let second = number(23..<25),
            day >= 1, day <= 31, hour <= 23, minute <= 59, second <= 60
        else { return nil }
        return daysFromCivil(year: year, month: Int64(monthIndex + 1), day: day) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
