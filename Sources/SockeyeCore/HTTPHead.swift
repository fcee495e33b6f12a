/// One header field as received: the name as written (compare it case-insensitively with
/// `hasName`), the value without surrounding whitespace.
public struct HTTPHeader: Sendable, Hashable {
    /// The field name, as the peer wrote it.
    public var name: String
    /// The field value, without leading or trailing spaces and tabs.
    public var value: String

    /// A field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Whether the name is `other`, ignoring ASCII case (HTTP field names are
    /// case-insensitive).
    public func hasName(_ other: String) -> Bool {
        name.utf8.count == other.utf8.count && zip(name.utf8, other.utf8).allSatisfy { HTTPBytes.lower($0) == HTTPBytes.lower($1) }
    }
}

/// Byte classes of RFC 9110/9112.
enum HTTPBytes {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09

    static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// `tchar`: the characters of a field name or token.
    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// Field values and reason phrases: tab, visible ASCII, space and obs-text; no other
    /// control characters (a NUL or a stray control byte is how header injection looks).
    static func isFieldText(_ byte: UInt8) -> Bool { byte == tab || (byte >= 0x20 && byte != 0x7F) }

    static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isBlank(first) { slice = slice.dropFirst() }
        while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
        return slice
    }
}

/// Reads one response head (status line and header fields), or a trailer section, from
/// bytes fed in pieces of any size.
///
/// Lines end in CRLF; a bare LF is accepted too (RFC 9112 §2.2 allows it), a bare CR is not.
/// Empty lines before the status line are skipped. An obsolete folded line (starting with a
/// space or tab) is joined to the previous value with one space, as RFC 9112 §5.2 asks a user
/// agent to do. Every byte consumed counts toward `limit`, across `reset()`s, so interim
/// (1xx) responses cannot be used to send an unbounded head.
struct HTTPHeadReader: Sendable {
    let limit: Int
    let readsStatusLine: Bool
    /// Bytes consumed so far (toward `limit`).
    private(set) var used = 0
    private(set) var lineNumber = 0
    private var line: [UInt8] = []
    private(set) var status = 0
    /// The minor version of the status line (`HTTP/1.0` → 0, `HTTP/1.1` → 1).
    private(set) var minorVersion = 1
    private(set) var reason = ""
    private(set) var headers: [HTTPHeader] = []

    init(limit: Int, readsStatusLine: Bool) {
        self.limit = limit
        self.readsStatusLine = readsStatusLine
    }

    /// Forgets the head read so far (after an interim response), keeping the byte count.
    mutating func reset() {
        lineNumber = 0
        line.removeAll(keepingCapacity: true)
        status = 0
        minorVersion = 1
        reason = ""
        headers = []
    }

    /// Consumes bytes of `buffer` from index `start`. Returns the index just past the head's
    /// final empty line once it is complete, or `nil` when every byte was consumed first.
    mutating func consume(_ buffer: UnsafeRawBufferPointer, from start: Int) throws(HTTPParseError) -> Int? {
        // Safety: `buffer[j]` is read only after `j < buffer.count` in the same condition, and
        // slices stay within `i...j`, both at most `buffer.count` (the caller's `start` is an
        // index this method or the parser returned). Fuzzed under AddressSanitizer.
        var i = start
        while i < buffer.count {
            var j = i
            while j < buffer.count && buffer[j] != HTTPBytes.lf { j += 1 }
            let taken = (j < buffer.count ? j + 1 : j) - i
            guard taken <= limit - used else { throw .headerTooLarge(limit: limit) }
            used += taken
            line.append(contentsOf: buffer[i..<j])
            guard j < buffer.count else { return nil }
            i = j + 1
            if try finishLine() { return i }
        }
        return nil
    }

    /// Handles the line in `line` (without its LF); returns whether it ended the head.
    private mutating func finishLine() throws(HTTPParseError) -> Bool {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == HTTPBytes.cr { line.removeLast() }
        if line.contains(HTTPBytes.cr) { throw .bareCarriageReturn }
        if readsStatusLine && status == 0 {
            if line.isEmpty { return false }
            lineNumber += 1
            try parseStatusLine(line[...])
            return false
        }
        lineNumber += 1
        if line.isEmpty { return true }
        if HTTPBytes.isBlank(line[0]) {
            // obs-fold: a continuation of the previous field's value.
            let more = HTTPBytes.trimmed(line[...])
            guard !headers.isEmpty, more.allSatisfy(HTTPBytes.isFieldText) else { throw .malformedHeader(line: lineNumber) }
            if !more.isEmpty {
                let previous = headers[headers.count - 1].value
                headers[headers.count - 1].value = previous.isEmpty ? String(decoding: more, as: UTF8.self) : previous + " " + String(decoding: more, as: UTF8.self)
            }
            return false
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            line[..<colon].allSatisfy(HTTPBytes.isToken)
        else { throw .malformedHeader(line: lineNumber) }
        let value = HTTPBytes.trimmed(line[(colon + 1)...])
        guard value.allSatisfy(HTTPBytes.isFieldText) else { throw .malformedHeader(line: lineNumber) }
        headers.append(HTTPHeader(name: String(decoding: line[..<colon], as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        return false
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`. A missing reason (and its space) is tolerated.
    private mutating func parseStatusLine(_ text: ArraySlice<UInt8>) throws(HTTPParseError) {
        let prefix = Array("HTTP/".utf8)
        guard text.starts(with: prefix) else { throw .malformedStatusLine }
        let versionStart = text.startIndex + prefix.count
        let versionEnd = text[versionStart...].firstIndex(of: HTTPBytes.space) ?? text.endIndex
        let version = text[versionStart..<versionEnd]
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        guard version.count == 3, isDigit(version[versionStart]), version[versionStart + 1] == UInt8(ascii: "."),
            isDigit(version[versionStart + 2]), version[versionStart] == UInt8(ascii: "1")
        else {
            guard !version.isEmpty, version.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) else { throw .malformedStatusLine }
            throw .unsupportedVersion(String(decoding: version, as: UTF8.self))
        }
        let codeStart = versionEnd + 1
        guard codeStart + 3 <= text.endIndex else { throw .malformedStatusLine }
        var code = 0
        for byte in text[codeStart..<(codeStart + 3)] {
            guard isDigit(byte) else { throw .malformedStatusLine }
            code = code * 10 + Int(byte - 0x30)
        }
        guard code >= 100 && code <= 599 else { throw .malformedStatusLine }
        let rest = text[(codeStart + 3)...]
        if let first = rest.first {
            guard first == HTTPBytes.space, rest.allSatisfy(HTTPBytes.isFieldText) else { throw .malformedStatusLine }
        }
        status = code
        minorVersion = Int(version[versionStart + 2] - 0x30)
        reason = String(decoding: HTTPBytes.trimmed(rest), as: UTF8.self)
    }
}
