#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UTC instant with microsecond precision, stored as microseconds since the Unix epoch.
public struct Timestamp: Hashable, Sendable, Comparable {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// Seconds since the epoch, for values known to be in range (`checkedSeconds` is for input).
    public init(seconds: Double) { self.microseconds = Int64((seconds * 1_000_000).rounded()) }

    /// Seconds since the epoch read from input; nil when not finite or beyond the years 0…9999.
    public init?(checkedSeconds seconds: Double) {
        guard seconds.isFinite, abs(seconds) < 253_402_300_800 else { return nil }
        self.init(seconds: seconds)
    }

    /// The current time.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    /// Saturates at the ends of the representable range instead of trapping.
    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        let (sum, overflow) = lhs.microseconds.addingReportingOverflow(rhs.microseconds)
        return Timestamp(microseconds: overflow ? (rhs.microseconds < 0 ? .min : .max) : sum)
    }

    /// Saturates at the ends of the representable range instead of trapping.
    public static func - (lhs: Timestamp, rhs: Duration) -> Timestamp {
        let (difference, overflow) = lhs.microseconds.subtractingReportingOverflow(rhs.microseconds)
        return Timestamp(microseconds: overflow ? (rhs.microseconds < 0 ? .max : .min) : difference)
    }

    /// ISO 8601 in UTC with milliseconds: `2026-11-27T21:56:19.000Z`.
    public var iso8601: String {
        let (year, month, day, secondsOfDay, millis) = civil
        var text = ""
        text.reserveCapacity(24)
        func pad(_ value: Int, _ width: Int) {
            let digits = String(value)
            if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
            text += digits
        }
        pad(year, 4); text += "-"; pad(month, 2); text += "-"; pad(day, 2); text += "T"
        pad(secondsOfDay / 3600, 2); text += ":"; pad(secondsOfDay / 60 % 60, 2); text += ":"
        pad(secondsOfDay % 60, 2); text += "."; pad(millis, 3); text += "Z"
        return text
    }

    /// The year in UTC.
    public var year: Int { civil.year }

    /// The date in UTC, the second of that day and the millisecond of that second.
    private var civil: (year: Int, month: Int, day: Int, secondsOfDay: Int, millis: Int) {
        let totalSeconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let millis = Int((microseconds - totalSeconds * 1_000_000) / 1_000)
        var days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secondsOfDay = Int(totalSeconds - days * 86_400)
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        return (year, month, day, secondsOfDay, millis)
    }

    /// Days since the epoch for a proleptic Gregorian date (Howard Hinnant's days-from-civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Builds a timestamp from calendar parts in UTC; nil when a part is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0) {
        guard (0...9999).contains(year), (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
            (0...59).contains(minute), (0...60).contains(second), (0..<1_000_000).contains(microsecond)
        else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.microseconds = seconds * 1_000_000 + Int64(microsecond)
    }
}

extension Duration {
    /// Whole microseconds in this duration, saturating at `Int64.min` and `Int64.max` (a
    /// duration can come from user input, and a trap would kill the process).
    public var microseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowSum) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        if overflowSum { return whole < 0 ? .min : .max }
        return total
    }
}
