// libFuzzer target for the HTTP-side codecs: the response parser, the proxy CONNECT answer
// parser, EndpointURL, NO_PROXY matching and the apps.connections.open answer mapping.
//
// Built by fuzz/run.sh in one module with the SockeyeCore sources (no SwiftPM), under
// AddressSanitizer. Besides "never crash, never read out of bounds", it checks that the
// incremental parsers do not depend on how the bytes were cut (whole, at split points chosen
// from the input, one byte at a time: same response or same error), and that what the URL
// parser accepts survives a round trip through its own output. A broken invariant traps,
// which libFuzzer reports as a crash.

#if canImport(SockeyeCore)
    import SockeyeCore
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let bytes = Array(input)
    checkResponseParser(bytes, maxHeaderBytes: 64 * 1024, maxBodyBytes: 1 << 20)
    checkResponseParser(bytes, maxHeaderBytes: 256, maxBodyBytes: 512)
    checkProxyConnect(bytes)
    checkURL(bytes)
    checkNoProxy(bytes)
    checkConnectionsOpen(bytes)
    return 0
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// Split points chosen from the input itself, so that runs are reproducible.
func splitPoints(_ bytes: [UInt8], count: Int) -> [Int] {
    guard !bytes.isEmpty else { return [] }
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes.prefix(256) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    var points: [Int] = []
    for _ in 0..<count {
        hash = hash &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        points.append(Int((hash >> 33) % UInt64(bytes.count + 1)))
    }
    return points.sorted()
}

/// Calls `body` with the pieces of `bytes` cut at `points` (sorted), without copying;
/// stops when it returns false.
func forEachPiece(_ bytes: [UInt8], at points: [Int], _ body: (UnsafeRawBufferPointer) -> Bool) {
    bytes.withUnsafeBytes { buffer in
        var start = 0
        for end in points + [buffer.count] {
            guard body(UnsafeRawBufferPointer(rebasing: buffer[start..<end])) else { return }
            start = end
        }
    }
}

/// Every split point: one byte at a time.
func everyByte(_ bytes: [UInt8]) -> [Int] { bytes.isEmpty ? [] : Array(1..<bytes.count) }

// MARK: Response parser

enum ParseOutcome: Equatable {
    case complete(HTTPResponse)
    case incomplete
    case failed(HTTPParseError)
}

/// Feeds `bytes` cut at `points`; then reports the close.
func parse(_ bytes: [UInt8], at points: [Int], maxHeaderBytes: Int, maxBodyBytes: Int) -> (ParseOutcome, ParseOutcome) {
    var parser = HTTPResponseParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
    var outcome = ParseOutcome.incomplete
    forEachPiece(bytes, at: points) { piece in
        do throws(HTTPParseError) {
            guard let response = try parser.receive(piece) else { return true }
            outcome = .complete(response)
        } catch {
            outcome = .failed(error)
        }
        return false
    }
    let ended: ParseOutcome
    do throws(HTTPParseError) {
        ended = .complete(try parser.receiveEnd())
    } catch {
        ended = .failed(error)
    }
    return (outcome, ended)
}

func checkResponseParser(_ bytes: [UInt8], maxHeaderBytes: Int, maxBodyBytes: Int) {
    let whole = parse(bytes, at: [], maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
    let split = parse(bytes, at: splitPoints(bytes, count: 3), maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
    require(whole == split, "split feeding gave \(split), whole gave \(whole)")
    if bytes.count <= 4096 {
        let single = parse(bytes, at: everyByte(bytes), maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        require(whole == single, "byte-by-byte feeding gave \(single), whole gave \(whole)")
    }
    for outcome in [whole.0, whole.1] {
        guard case .complete(let response) = outcome else { continue }
        require((100...599).contains(response.status), "status \(response.status)")
        require(response.body.count <= maxBodyBytes, "body of \(response.body.count) bytes over \(maxBodyBytes)")
        for field in response.headers + response.trailers {
            require(!field.name.isEmpty && !field.name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x3A }), "bad name \(field.name)")
            require(!field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }), "line break in \(field.value)")
        }
        _ = response.retryAfter
        _ = ConnectionsOpenCall.result(of: response)
    }
}

// MARK: Proxy CONNECT

enum ConnectOutcome: Equatable {
    /// Completed: how many bytes of the whole input the head took.
    case tunnel(headLength: Int)
    case incomplete
    case failed(ProxyConnectError)
}

func connect(_ bytes: [UInt8], at points: [Int], proxy: EndpointURL) -> ConnectOutcome {
    let target = try! EndpointURL("wss://wss-primary.slack.com/link/")
    var handshake = ProxyConnect(target: target, proxy: proxy, userAgent: "fuzz")
    var consumedBefore = 0
    var outcome = ConnectOutcome.incomplete
    forEachPiece(bytes, at: points) { piece in
        do throws(ProxyConnectError) {
            guard let used = try handshake.receive(piece) else {
                consumedBefore += piece.count
                return true
            }
            require(used >= 0 && used <= piece.count, "used \(used) of a \(piece.count)-byte piece")
            outcome = .tunnel(headLength: consumedBefore + used)
        } catch {
            outcome = .failed(error)
        }
        return false
    }
    return outcome
}

func checkProxyConnect(_ bytes: [UInt8]) {
    let proxy = try! EndpointURL("http://user:pw@proxy:3128")
    let whole = connect(bytes, at: [], proxy: proxy)
    let split = connect(bytes, at: splitPoints(bytes, count: 4), proxy: proxy)
    require(whole == split, "CONNECT: split gave \(split), whole gave \(whole)")
    if bytes.count <= 4096 {
        let single = connect(bytes, at: everyByte(bytes), proxy: proxy)
        require(whole == single, "CONNECT: byte-by-byte gave \(single), whole gave \(whole)")
    }
    if case .tunnel(let length) = whole {
        require(length >= 4 && length <= ProxyConnect.maxHeaderBytes, "head of \(length) bytes")
        require(bytes[length - 1] == 0x0A, "the head does not end with a line feed")
    }
}

// MARK: URLs and NO_PROXY

func checkURL(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? ProxySettings.proxyURL(text)
    // (A separate function: a `do`/`catch` with `return` here crashed the 6.3 optimizer.)
    guard let url = parsedURL(text) else { return }
    require(!url.host.isEmpty && url.host == url.host.lowercased(), "host \(url.host)")
    require((1...65535).contains(url.port), "port \(url.port)")
    require(url.requestTarget.hasPrefix("/"), "target \(url.requestTarget)")
    for part in [url.requestTarget, url.hostHeader, url.authority, url.absoluteForm] {
        require(!part.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }), "unsendable byte in \(part)")
    }
    // The absolute form parses back to the same URL without its userinfo.
    var anonymous = url
    anonymous.user = nil
    anonymous.password = nil
    if anonymous.path.isEmpty { anonymous.path = "/" }
    let reparsed = try? EndpointURL(url.absoluteForm)
    require(reparsed == anonymous, "\(url.absoluteForm) reparsed as \(String(describing: reparsed))")
    // The log form parses too, and keeps the user name.
    let logged = try? EndpointURL(url.description)
    require(logged?.user == url.user && logged?.host == url.host, "\(url.description) does not parse back")
    let method = url.appendingPath("apps.connections.open")
    require(method.requestTarget.hasSuffix("/apps.connections.open"), "appended \(method.requestTarget)")
    require((try? EndpointURL(method.absoluteForm))?.path == method.path, "appended path does not reparse")
    // A URL is never sent through a proxy when NO_PROXY names its host.
    let settings = ProxySettings(httpsProxy: url, httpProxy: url, noProxy: [url.host.contains(":") ? "[\(url.host)]" : url.host])
    require(settings.proxy(for: url) == nil, "NO_PROXY=\(url.host) did not match \(url)")
}

/// The URL, or nil after checking the error can be shown.
func parsedURL(_ text: String) -> EndpointURL? {
    let result = Result { () throws(EndpointURLError) in try EndpointURL(text) }
    if case .failure(let error) = result { require(!error.description.isEmpty, "empty error description") }
    return try? result.get()
}

func checkNoProxy(_ bytes: [UInt8]) {
    let entries = String(decoding: bytes, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let targets = [
        "wss://wss-primary.slack.com/link/", "https://slack.com/api/", "ws://127.0.0.1:9000/", "http://[::1]:8080/",
        "https://10.1.2.3/", "http://[fd00::1]/", "wss://localhost/",
    ].map { try! EndpointURL($0) }
    let proxy = try! EndpointURL("http://proxy:3128")
    let settings = ProxySettings(httpsProxy: proxy, httpProxy: proxy, noProxy: entries)
    var more = settings
    more.noProxy.append("unrelated.invalid")
    var everything = settings
    everything.noProxy.append(" * ")
    for target in targets {
        let bypassed = settings.bypasses(target)
        require(bypassed == (settings.proxy(for: target) == nil), "proxy(for:) disagrees with bypasses for \(target)")
        // More entries never send a bypassed target through the proxy.
        require(!bypassed || more.bypasses(target), "an extra entry un-bypassed \(target)")
        require(everything.bypasses(target), "* did not match \(target)")
    }
}

// MARK: apps.connections.open answers

func checkConnectionsOpen(_ bytes: [UInt8]) {
    for status in [200, 429, 503] {
        let response = HTTPResponse(status: status, headers: [HTTPHeader(name: "Retry-After", value: "30")], body: bytes)
        let result = ConnectionsOpenCall.result(of: response)
        switch result {
        case .url(let url):
            require(status == 200, "url from HTTP \(status)")
            let parsed = try? EndpointURL(url)
            require(parsed?.scheme == .wss || parsed?.scheme == .ws, "unusable url \(url) accepted")
        case .apiError(let code, let retryAfter):
            require(!code.isEmpty && retryAfter == .seconds(30), "apiError(\(code), \(String(describing: retryAfter)))")
        case .httpStatus(let code, _):
            require(code == status && status != 200, "httpStatus(\(code)) for \(status)")
        case .transportFailure(let message):
            require(status == 200 && !message.isEmpty, "transport failure for HTTP \(status)")
        }
    }
}
