import Foundation
import VigilModel

/// One compiled test of a single field value.
enum ValueTest: Sendable {
    case text(TextPattern)
    /// Several literals merged; matches when any of them does.
    case anyText(MultiPattern)
    case regex(BoundedRegex)
    case numeric(NumericComparison, Double)
    /// A part of a date (`hour`, …) compared with a number: equal when there is no comparison.
    case timePart(TimePart, NumericComparison?, Double)
    case cidr(CIDRNetwork)
    /// Compares against the value of another field of the same event.
    case fieldReference(FieldKey, TextPattern.Kind, caseSensitive: Bool)

    func matches(_ value: String, in event: Event) -> Bool {
        switch self {
        case .text(let pattern):
            return pattern.matches(value)
        case .anyText(let patterns):
            return patterns.matches(value)
        case .regex(let expression):
            return expression.matches(value)
        case .numeric(let comparison, let bound):
            guard let number = Double(value) else { return false }
            return comparison.holds(number, bound)
        case .timePart(let part, let comparison, let bound):
            guard let time = Timestamp(parsing: value) else { return false }
            let number = Double(part.extract(from: time))
            return comparison.map { $0.holds(number, bound) } ?? (number == bound)
        case .cidr(let network):
            return network.contains(value)
        case .fieldReference(let key, let kind, let caseSensitive):
            for field in event.fields where field.key == key {
                var reference = SigmaString(literal: field.value)
                switch kind {
                case .prefix: reference = reference.wrapped(leading: false, trailing: true)
                case .suffix: reference = reference.wrapped(leading: true, trailing: false)
                case .contains: reference = reference.wrapped(leading: true, trailing: true)
                default: break
                }
                if TextPattern(reference, caseSensitive: caseSensitive).matches(value) { return true }
            }
            return false
        }
    }
}

/// Sigma's `lt`, `lte`, `gt` and `gte`.
enum NumericComparison: String, Sendable {
    case lt, lte, gt, gte

    func holds(_ value: Double, _ bound: Double) -> Bool {
        switch self {
        case .lt: value < bound
        case .lte: value <= bound
        case .gt: value > bound
        case .gte: value >= bound
        }
    }
}

/// The time modifiers: a part of a date value, in UTC (no time-zone or format conversion).
enum TimePart: String, Sendable {
    case minute, hour, day, week, month, year

    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The part of `time`: minute 0-59, hour 0-23, day of the month 1-31, ISO week 1-53, month 1-12, year.
    func extract(from time: Timestamp) -> Int {
        let date = Date(timeIntervalSince1970: Double(time.microseconds) / 1_000_000)
        let components = Self.calendar.dateComponents([.minute, .hour, .day, .weekOfYear, .month, .year], from: date)
        switch self {
        case .minute: return components.minute ?? 0
        case .hour: return components.hour ?? 0
        case .day: return components.day ?? 0
        case .week: return components.weekOfYear ?? 0
        case .month: return components.month ?? 0
        case .year: return components.year ?? 0
        }
    }
}

/// An IPv4 or IPv6 network for the `cidr` modifier.
struct CIDRNetwork: Sendable {
    let address: [UInt8]
    let prefixLength: Int

    /// Parses `10.0.0.0/8` or `fe80::/10`; nil when malformed.
    init?(_ text: String) {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count <= 2, let address = CIDRNetwork.parseAddress(String(pieces[0])) else { return nil }
        let maximum = address.count * 8
        let length = pieces.count == 2 ? Int(pieces[1]) : maximum
        guard let length, (0...maximum).contains(length) else { return nil }
        self.address = address
        self.prefixLength = length
    }

    func contains(_ text: String) -> Bool {
        guard let candidate = CIDRNetwork.parseAddress(text), candidate.count == address.count else { return false }
        var remaining = prefixLength
        for index in 0..<address.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if candidate[index] & mask != address[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// 4 bytes for IPv4, 16 for IPv6 (an IPv4-mapped IPv6 address becomes its IPv4 form).
    static func parseAddress(_ text: String) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        if text.contains(":") {
            let cleaned = text.split(separator: "%").first.map(String.init) ?? text
            guard inet_pton(AF_INET6, cleaned, &bytes) == 1 else { return nil }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return Array(bytes[12..<16])
            }
            return bytes
        }
        guard inet_pton(AF_INET, text, &bytes) == 1 else { return nil }
        return Array(bytes[0..<4])
    }
}
