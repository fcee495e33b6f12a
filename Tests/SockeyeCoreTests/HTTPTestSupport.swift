import SockeyeCore
import Testing

/// Feeds `pieces` to a fresh parser in order; the first complete response or error, or nil
/// when every piece was taken without completing. `end` also reports the close.
func parseHTTP(
    _ pieces: [[UInt8]], end: Bool = false, maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20,
    requestWasHEAD: Bool = false
) -> Result<HTTPResponse?, HTTPParseError> {
    var parser = HTTPResponseParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes, requestWasHEAD: requestWasHEAD)
    do throws(HTTPParseError) {
        for piece in pieces {
            let result = try parser.feed(piece)
            if let result { return .success(result) }
        }
        if end { return .success(try parser.receiveEnd()) }
        return .success(nil)
    } catch {
        return .failure(error)
    }
}

func parseHTTP(
    _ text: String, end: Bool = false, maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20, requestWasHEAD: Bool = false
) -> Result<HTTPResponse?, HTTPParseError> {
    parseHTTP([Array(text.utf8)], end: end, maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes, requestWasHEAD: requestWasHEAD)
}

/// The error parsing `text` gives, or nil.
func httpError(_ text: String, end: Bool = false, maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20) -> HTTPParseError? {
    if case .failure(let error) = parseHTTP(text, end: end, maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes) { return error }
    return nil
}

/// `bytes` cut into two pieces at every position (including empty first and last pieces),
/// and into single bytes.
func everySplit(_ bytes: [UInt8]) -> [[[UInt8]]] {
    var splits = (0...bytes.count).map { [Array(bytes[..<$0]), Array(bytes[$0...])] }
    splits.append(bytes.map { [$0] })
    return splits
}

/// A URL the test knows to be valid.
func endpoint(_ text: String) -> EndpointURL {
    do throws(EndpointURLError) {
        return try EndpointURL(text)
    } catch {
        Issue.record("\(text) does not parse: \(error)")
        preconditionFailure()
    }
}

/// The error parsing `text` as a URL gives, or nil.
func urlError(_ text: String) -> EndpointURLError? {
    do throws(EndpointURLError) {
        _ = try EndpointURL(text)
        return nil
    } catch {
        return error
    }
}

extension Array where Element == UInt8 {
    /// The bytes as text (test data is ASCII).
    var httpText: String { String(decoding: self, as: UTF8.self) }
}

extension HTTPResponseParser {
    /// `receive` on an array (typed throws survive `withUnsafeBytes` through a `Result`).
    mutating func feed(_ bytes: [UInt8]) throws(HTTPParseError) -> HTTPResponse? {
        let result: Result<HTTPResponse?, HTTPParseError> = bytes.withUnsafeBytes { buffer in
            do throws(HTTPParseError) {
                return .success(try self.receive(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension ProxyConnect {
    /// `receive` on an array.
    mutating func feed(_ bytes: [UInt8]) throws(ProxyConnectError) -> Int? {
        let result: Result<Int?, ProxyConnectError> = bytes.withUnsafeBytes { buffer in
            do throws(ProxyConnectError) {
                return .success(try self.receive(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
