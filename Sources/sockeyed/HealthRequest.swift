import Glibc
import SockeyeOperations

/// The one request of `sockeyed healthcheck`: a TCP connection to the operations listener,
/// the probe's GET, and its status line, each step bounded by one deadline (a listener that
/// accepts and never answers is as unhealthy as one that refuses).
enum HealthRequest {
    /// The verdict on the answer, or why there was none.
    static func perform(_ probe: HealthProbe, deadline: ContinuousClock.Instant) -> Result<HealthProbe.Verdict, HealthRequestError> {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        if probe.host.contains(":") {
            family = AF_INET6
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(probe.port).bigEndian)
            guard inet_pton(AF_INET6, probe.host, &address.sin6_addr) == 1 else { return .failure(.init("not an IPv6 address: \(probe.host)")) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in6.self) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            family = AF_INET
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(probe.port).bigEndian)
            guard inet_pton(AF_INET, probe.host, &address.sin_addr) == 1 else { return .failure(.init("not an IPv4 address: \(probe.host)")) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in.self) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(.errno("socket", errno)) }
        defer { close(descriptor) }

        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) }
        }
        if connected != 0 {
            guard errno == EINPROGRESS else { return .failure(.errno("connect", errno)) }
            if let failure = wait(descriptor, for: Int16(POLLOUT), until: deadline, step: "connect") { return .failure(failure) }
            var problem: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &problem, &size)
            if problem != 0 { return .failure(.errno("connect", problem)) }
        }

        let request = probe.request
        var written = 0
        while written < request.count {
            let count = request[written...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                written += count
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                if let failure = wait(descriptor, for: Int16(POLLOUT), until: deadline, step: "send") { return .failure(failure) }
            } else {
                return .failure(.errno("send", errno))
            }
        }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            if let failure = wait(descriptor, for: Int16(POLLIN), until: deadline, step: "answer") { return .failure(failure) }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .failure(.errno("receive", errno))
            }
            received += buffer[..<count]
            let verdict = HealthProbe.verdict(received)
            if verdict != .incomplete { return .success(verdict) }
            if count == 0 { return .failure(.init("the connection closed before a status line")) }
        }
    }

    /// Waits until `descriptor` is ready for `events`; the failure when the deadline passes first.
    private static func wait(_ descriptor: Int32, for events: Int16, until deadline: ContinuousClock.Instant,
                             step: String) -> HealthRequestError? {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return .init("no \(step) before the deadline") }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return nil }
            if ready < 0 && errno != EINTR { return .errno("poll", errno) }
        }
    }
}

/// Why `sockeyed healthcheck` got no answer.
struct HealthRequestError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }

    static func errno(_ step: String, _ number: Int32) -> HealthRequestError {
        HealthRequestError("\(step): \(String(cString: strerror(number)))")
    }
}
