/// Minimal, allocation-conscious JSON text writing for hot paths and stable CLI output.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &output)
        return output
    }

    /// Appends `text` as a JSON string literal to `output`.
    public static func appendQuoted(_ text: String, to output: inout String) {
        output.append("\"")
        var needsEscape = false
        for byte in text.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscape = true
            break
        }
        if !needsEscape {
            output.append(text)
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": output.append("\\\"")
                case "\\": output.append("\\\\")
                case "\n": output.append("\\n")
                case "\r": output.append("\\r")
                case "\t": output.append("\\t")
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                    } else {
                        output.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        output.append("\"")
    }

    /// Serializes `fields` as one JSON object; a name that repeats becomes an array of its values.
    public static func object(fields: [EventField], name: (FieldKey) -> String) -> String {
        var output = "{"
        output.reserveCapacity(fields.count * 32)
        var written = 0
        for (index, field) in fields.enumerated() {
            // Repeated keys were already written as an array at their first occurrence.
            if fields[..<index].contains(where: { $0.key == field.key }) { continue }
            if written > 0 { output.append(",") }
            written += 1
            appendQuoted(name(field.key), to: &output)
            output.append(":")
            let repeats = fields[(index + 1)...].contains { $0.key == field.key }
            if repeats {
                output.append("[")
                var first = true
                for other in fields[index...] where other.key == field.key {
                    if !first { output.append(",") }
                    first = false
                    appendQuoted(other.value, to: &output)
                }
                output.append("]")
            } else {
                appendQuoted(field.value, to: &output)
            }
        }
        output.append("}")
        return output
    }
}
