/// Minimal, allocation-conscious JSON text writing for hot paths and stable CLI output.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal to `output`.
    public static func appendQuoted(_ text: String, to output: inout String) {
        output += quoted(text)
    }

    /// A field's value: quoted text, or `null` for a null field.
    private static func appendValue(_ field: EventField, to bytes: inout [UInt8]) {
        if field.isNull { bytes.append(contentsOf: "null".utf8) } else { appendQuoted(field.value, to: &bytes) }
    }

    /// Serializes `fields` as one JSON object; a name that repeats becomes an array of its values.
    ///
    /// Built as UTF-8 bytes and turned into a String once: appending to a String piece by
    /// piece cost several times as much on the import hot path.
    public static func object(fields: [EventField], name: (FieldKey) -> String) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(fields.count * 48)
        var written = 0
        fields.withUnsafeBufferPointer { fields in
            for index in fields.indices {
                let key = fields[index].key
                // Repeated keys were already written as an array at their first occurrence.
                if fields[..<index].contains(where: { $0.key == key }) { continue }
                if written > 0 { bytes.append(UInt8(ascii: ",")) }
                written += 1
                appendQuoted(name(key), to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                if fields[(index + 1)...].contains(where: { $0.key == key }) {
                    bytes.append(UInt8(ascii: "["))
                    var first = true
                    for other in index..<fields.count where fields[other].key == key {
                        if !first { bytes.append(UInt8(ascii: ",")) }
                        first = false
                        appendValue(fields[other], to: &bytes)
                    }
                    bytes.append(UInt8(ascii: "]"))
                } else {
                    appendValue(fields[index], to: &bytes)
                }
            }
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal, in UTF-8, to `bytes`: runs that need no
    /// escaping are copied whole.
    static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for position in 0..<utf8.count {
                let byte = utf8[position]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<position]))
                runStart = position + 1
                switch byte {
                case 0x22: bytes += [0x5C, 0x22]
                case 0x5C: bytes += [0x5C, 0x5C]
                case 0x0A: bytes += [0x5C, UInt8(ascii: "n")]
                case 0x0D: bytes += [0x5C, UInt8(ascii: "r")]
                case 0x09: bytes += [0x5C, UInt8(ascii: "t")]
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes += [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
