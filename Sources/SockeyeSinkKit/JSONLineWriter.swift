/// Writes one JSON object into bytes.
package struct JSONLineWriter {
    package private(set) var bytes: [UInt8] = []
    private var first = true

    /// Starts the object in a buffer of `capacity` bytes (the whole line, so it grows once).
    package mutating func begin(capacity: Int) {
        bytes.reserveCapacity(capacity)
        bytes.append(0x7B)
    }

    package mutating func end() { bytes.append(0x7D) }

    package mutating func key(_ name: String) {
        if !first { bytes.append(0x2C) }
        first = false
        string(name)
        bytes.append(0x3A)
    }

    package mutating func field(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { bytes.append(contentsOf: "null".utf8) }
    }

    package mutating func field(_ name: String, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Raw JSON (already valid): `null` when empty.
    package mutating func raw(_ json: UnsafeRawBufferPointer) {
        if json.isEmpty { bytes.append(contentsOf: "null".utf8) } else { bytes.append(contentsOf: json) }
    }

    /// A JSON string with the escapes RFC 8259 requires.
    package mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(0x22)
            // Ids, types and timestamps have nothing to escape: copied whole.
            if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                bytes.append(contentsOf: utf8)
            } else {
                for byte in utf8 { escape(byte) }
            }
            bytes.append(0x22)
        }
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
        case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
        case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
        case 0..<0x20:
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        default: bytes.append(byte)
        }
    }
}

