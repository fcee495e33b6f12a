/// The top-level members of a JSON object, in order, for small flat objects such as a slash
/// command's payload: each name decoded, each value as a view of its bytes with whether it is
/// a string (then `JSONStringDecoder.string` decodes it) or other JSON (an object, a number,
/// `true` …) to be used as it is. The whole text is checked as JSON (the strict scanner's
/// rules); views index into `json`.
public enum JSONObjectMembers {
    /// One member.
    public struct Member: Sendable {
        /// The decoded name.
        public var name: String
        /// The value: a string's characters between the quotes (still escaped), or the
        /// whole value's bytes.
        public var value: ByteView
        public var isString: Bool
    }

    /// The members of the object `json`, or the scanner's error when it is not valid JSON or
    /// not an object.
    public static func read(_ json: UnsafeRawBufferPointer) throws(ScanError) -> [Member] {
        var cursor = try JSONCursor(frame: json, options: .default)
        cursor.skipWhitespace()
        guard try cursor.peek() == 0x7B else { throw ScanError(.notAnObject, at: cursor.index) }
        var members: [Member] = []
        try cursor.scanMembers(depth: 1) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
            let name = JSONStringDecoder.string(key, in: json) ?? ""
            cursor.skipWhitespace()
            if try cursor.peek() == 0x22 {
                members.append(Member(name: name, value: try cursor.scanString(), isString: true))
            } else {
                let start = cursor.index
                try cursor.skipValue(depth: 1)
                members.append(Member(name: name, value: ByteView(offset: start, length: cursor.index - start), isString: false))
            }
        }
        try cursor.expectEnd()
        return members
    }
}
