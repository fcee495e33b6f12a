import Glibc

/// The datagram socket notifications go out on (systemd's `sd_notify` protocol, spoken
/// without libsystemd): one AF_UNIX datagram per notification to the manager's address.
/// Non-blocking, so a manager that does not read never stalls the daemon (the datagram is
/// dropped and the failure reported), and close-on-exec, so no child program inherits it.
final class NotifySocket: Sendable {
    private let descriptor: Int32
    private let address: ServiceManagerEnvironment.Address

    /// Opens the socket; throws the `errno` when the system refuses one.
    init(address: ServiceManagerEnvironment.Address) throws(NotifySocketError) {
        let kind = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let descriptor = socket(AF_UNIX, kind, 0)
        guard descriptor >= 0 else { throw NotifySocketError(errno: errno) }
        self.descriptor = descriptor
        self.address = address
    }

    deinit { close(descriptor) }

    /// Sends `text` as one datagram; nil when it went out, else the failure.
    func send(_ text: String) -> NotifySocketError? {
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        // A path: its bytes and the NUL the zeroed structure already holds; an abstract name:
        // a leading NUL, then its bytes, and the length says where it ends.
        let bytes: [UInt8]
        let terminator: Int
        switch address {
        case .path(let path):
            bytes = Array(path.utf8)
            terminator = 1
        case .abstract(let name):
            bytes = [0] + Array(name.utf8)
            terminator = 0
        }
        guard bytes.count + terminator <= MemoryLayout.size(ofValue: socketAddress.sun_path) else {
            return NotifySocketError(errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + terminator)
        let payload = Array(text.utf8)
        let sent = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                payload.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), generic, length) }
            }
        }
        if sent < 0 { return NotifySocketError(errno: errno) }
        return sent == payload.count ? nil : NotifySocketError(errno: EMSGSIZE)
    }
}

/// A notification that could not be sent, by its `errno`.
struct NotifySocketError: Error, Sendable, CustomStringConvertible {
    let errno: Int32

    var description: String { String(cString: strerror(errno)) }
}
