#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking TCP connection to an IPv4 address, where every wait has a deadline: reads wait
/// at most `timeout` for bytes, writes at most `timeout` for room in the socket buffer.
struct BlockingSocket {
    /// Why a socket call failed.
    enum Failure: Error, CustomStringConvertible {
        case address(String)
        case system(String, Int32)
        case timedOut

        var description: String {
            switch self {
            case .address(let text): "not an IPv4 address: \(text)"
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            case .timedOut: "timed out"
            }
        }
    }

    /// What a read returned.
    enum Read {
        case bytes(Int)
        case end
    }

    private let descriptor: Int32
    private let timeoutMilliseconds: Int32

    /// Connects to `host` (a dotted IPv4 address) and `port`; `timeout` bounds the connect,
    /// and later every read and write.
    init(host: String, port: UInt16, timeout: Duration) throws(Failure) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw .address(host) }
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw .system("socket", errno) }
        let seconds = timeout.components.seconds
        // The caller range-checks the timeout (at most an hour), so this fits an Int32.
        timeoutMilliseconds = Int32(clamping: seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        var sendTimeout = timeval(tv_sec: Int(seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        // The connect is made non-blocking so that it too waits at most `timeout`.
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if started != 0 {
            guard errno == EINPROGRESS else {
                let code = errno
                closeDescriptor(descriptor)
                throw .system("connect", code)
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, timeoutMilliseconds) == 1 else {
                closeDescriptor(descriptor)
                throw .timedOut
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
            guard code == 0 else {
                closeDescriptor(descriptor)
                throw .system("connect", code)
            }
        }
        _ = fcntl(descriptor, F_SETFL, flags)
        self.descriptor = descriptor
    }

    /// Reads what is there into `buffer`, waiting at most the timeout for the first byte.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Failure) -> Read {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, timeoutMilliseconds)
        guard ready >= 0 else { throw .system("poll", errno) }
        guard ready == 1 else { throw .timedOut }
        let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
        guard count >= 0 else {
            // A reset after the peer's last bytes is an end like any other here.
            if errno == ECONNRESET { return .end }
            throw .system("recv", errno)
        }
        return count == 0 ? .end : .bytes(count)
    }

    /// Writes all of `bytes` (blocking; each wait for buffer room bounded by the timeout).
    func write(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut }
                throw .system("send", errno)
            }
            offset += written
        }
    }

    /// Closes the connection.
    func close() { closeDescriptor(descriptor) }
}

private func closeDescriptor(_ descriptor: Int32) {
    #if canImport(Glibc)
        _ = Glibc.close(descriptor)
    #else
        _ = Darwin.close(descriptor)
    #endif
}
