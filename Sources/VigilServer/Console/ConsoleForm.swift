import Foundation

/// A submitted HTML form (`application/x-www-form-urlencoded`), in field order; a field may
/// repeat (the alert queue's checkboxes).
struct ConsoleForm: Sendable {
    /// The largest form body accepted.
    static let byteLimit = 64 * 1024

    private(set) var fields: [(name: String, value: String)] = []

    /// Parses a form body; nil when it is not valid percent-encoded UTF-8.
    init?(_ body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else { return nil }
            fields.append((name, value))
        }
    }

    /// The first value of `name`, or nil when the form has none.
    subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    /// The value of `name` with surrounding spaces trimmed, or nil when it is absent or blank.
    func nonEmpty(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// `+` as a space and `%HH` as a byte; nil for a bad escape or bytes that are not UTF-8.
    private static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
