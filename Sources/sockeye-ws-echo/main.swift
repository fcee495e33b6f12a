// sockeye-ws-echo: a WebSocket echo client built on SockeyeCore's codec alone, for
// conformance tests against WebSocket servers written elsewhere (docs/websocket-conformance.md).
//
//     sockeye-ws-echo ws://127.0.0.1:PORT/path [--max-message BYTES] [--timeout SECONDS]
//
// Connects, upgrades, echoes every message until the connection ends, then prints one line:
//     end=<how> received=<close code from the server> sent=<close code sent> error=<rule> echoed=<n>
// Exit status 0 when the line could be printed, 2 for bad arguments.
import SockeyeCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Prints what is wrong with the arguments and how to call, then exits with status 2.
func usage(_ problem: String) -> Never {
    print("sockeye-ws-echo: \(problem)\nusage: sockeye-ws-echo ws://IPV4:PORT/PATH [--max-message BYTES] [--timeout SECONDS]")
    exit(2)
}

/// `ws://host:port/path`, split; nil unless it has exactly that form.
func parse(_ url: String) -> (host: String, port: UInt16, target: String)? {
    guard url.hasPrefix("ws://") else { return nil }
    let rest = url.dropFirst(5)
    let authority = rest.prefix { $0 != "/" }
    let target = rest.dropFirst(authority.count)
    let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, let port = UInt16(parts[1]), port > 0 else { return nil }
    return (String(parts[0]), port, target.isEmpty ? "/" : String(target))
}

var arguments = CommandLine.arguments.dropFirst()
guard let url = arguments.popFirst(), let endpoint = parse(url) else { usage("the first argument must be ws://IPV4:PORT/PATH") }
// The codec's own default (what Sockeye's clients use unless configured otherwise).
var maxMessageSize = WebSocketFrameDecoder().maxMessageSize
var timeoutSeconds = 10
while let option = arguments.popFirst() {
    guard let value = arguments.popFirst() else { usage("\(option) needs a value") }
    switch option {
    case "--max-message":
        // Up to 1 GiB: the echo buffers a whole message.
        guard let bytes = Int(value), (0...(1 << 30)).contains(bytes) else { usage("--max-message takes 0 to 1073741824 bytes") }
        maxMessageSize = bytes
    case "--timeout":
        guard let seconds = Int(value), (1...3600).contains(seconds) else { usage("--timeout takes 1 to 3600 seconds") }
        timeoutSeconds = seconds
    default:
        usage("unknown option \(option)")
    }
}

let session = EchoSession(host: endpoint.host, port: endpoint.port, target: endpoint.target,
                          maxMessageSize: maxMessageSize, timeout: .seconds(timeoutSeconds))
print(session.run().line)
