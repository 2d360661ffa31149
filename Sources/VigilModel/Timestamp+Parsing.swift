extension Timestamp {
    /// Parses ISO 8601 / RFC 3339 text (`2026-11-27T21:56:19.123Z`, `…+01:00`, a space
    /// instead of `T`, no zone meaning UTC) or Unix epoch seconds/milliseconds as digits.
    public init?(parsing text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Timestamp(parsingBytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// Byte-level form of `init(parsing:)`, used on the ingest hot path.
    public init?(parsingBytes bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0 else { return nil }
        @inline(__always) func digit(_ index: Int) -> Int? {
            guard index < count else { return nil }
            let byte = bytes[index]
            return byte >= 48 && byte <= 57 ? Int(byte - 48) : nil
        }
        @inline(__always) func number(_ start: Int, _ length: Int) -> Int? {
            var value = 0
            for index in start..<(start + length) {
                guard let d = digit(index) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        // Epoch seconds or milliseconds, optionally with a fraction.
        if count < 19 || bytes[4] != UInt8(ascii: "-") {
            var whole: Int64 = 0
            var index = 0
            var digits = 0
            while index < count, let d = digit(index) {
                // 18 digits always fit; more would overflow, and no sensor sends them.
                guard digits < 18 else { return nil }
                whole = whole * 10 + Int64(d)
                index += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
            var fraction: Int64 = 0
            var scale: Int64 = 1_000_000
            if index < count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                while index < count, let d = digit(index) {
                    if scale > 1 {
                        scale /= 10
                        fraction += Int64(d) * scale
                    }
                    index += 1
                }
            }
            guard index == count else { return nil }
            if digits >= 16 { self.microseconds = whole }  // microseconds
            else if digits >= 13 { self.microseconds = whole * 1_000 + fraction / 1_000 }  // milliseconds
            else { self.microseconds = whole * 1_000_000 + fraction }
            return
        }
        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"), let month = number(5, 2),
            bytes[7] == UInt8(ascii: "-"), let day = number(8, 2),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "t"),
            let hour = number(11, 2), bytes[13] == UInt8(ascii: ":"), let minute = number(14, 2),
            bytes[16] == UInt8(ascii: ":"), let second = number(17, 2)
        else { return nil }
        var index = 19
        var micros = 0
        if index < count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            index += 1
            var scale = 100_000
            var sawDigit = false
            while let d = digit(index) {
                micros += d * scale
                scale /= 10
                index += 1
                sawDigit = true
            }
            guard sawDigit else { return nil }
        }
        var offsetSeconds = 0
        if index < count {
            let sign = bytes[index]
            if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") {
                index += 1
            } else if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                guard let offsetHours = number(index + 1, 2) else { return nil }
                var next = index + 3
                if next < count, bytes[next] == UInt8(ascii: ":") { next += 1 }
                let offsetMinutes = number(next, 2) ?? 0
                if digit(next) != nil { next += 2 }
                offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
                index = next
            }
        }
        guard index == count,
            let base = Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second, microsecond: micros)
        else { return nil }
        self.microseconds = base.microseconds - Int64(offsetSeconds) * 1_000_000
    }
}

extension Timestamp {
    /// A time filter as users type it: ISO 8601 (`2026-11-27T10:00:00Z`), or a span before
    /// `now` (`30m`, `24h`, `7d`, `2w`).
    public init?(absoluteOrRelative text: String, now: Timestamp = .now()) {
        if text.contains("-"), let absolute = Timestamp(parsing: text) {
            self = absolute
            return
        }
        guard let seconds = DurationText.seconds(text), !text.allSatisfy(\.isNumber),
            case let (span, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000), !overflow
        else { return nil }
        self = Timestamp(microseconds: now.microseconds &- span)
    }
}

/// Durations as users type them: `90s`, `30m`, `12h`, `7d`, `2w`, or plain seconds.
public enum DurationText {
    /// The duration in seconds, or nil when `text` is not one or is longer than 10,000 years
    /// (so that a timestamp plus or minus it, in microseconds, always fits in 64 bits).
    public static func seconds(_ text: String) -> Int64? {
        let limit: Int64 = 10_000 * 31_557_600
        if let plain = Int64(text) { return (0...limit).contains(plain) ? plain : nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let multiplier = units[unit], let amount = Int64(text.dropLast()), amount >= 0,
            case let (seconds, overflow) = amount.multipliedReportingOverflow(by: multiplier), !overflow, seconds <= limit
        else { return nil }
        return seconds
    }

    /// The duration in milliseconds: `250ms`, or anything `seconds` reads.
    public static func milliseconds(_ text: String) -> Int64? {
        if text.hasSuffix("ms") {
            guard let amount = Int64(text.dropLast(2)), (0...1_000_000_000).contains(amount) else { return nil }
            return amount
        }
        return seconds(text).map { $0 * 1000 }
    }
}
