import Foundation
import VigilModel

/// Classic syslog (`Oct 24 17:05:31 host prog[pid]: message`) and ISO-stamped
/// (`2026-11-27T10:00:00+01:00 host prog: message`) line headers.
///
/// A classic timestamp has no year: Vigil takes the current year (UTC), unless that puts the
/// time more than a day in the future, in which case it takes the year before.
struct SyslogHeader {
    var time: Timestamp
    var hostname: String
    var program: String
    var pid: String?
    var message: Substring

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    init?(_ line: String, now: Timestamp = .now()) {
        var rest = line[...]
        // Optional RFC 3164 priority: <34>
        if rest.first == "<", let close = rest.firstIndex(of: ">"), rest[rest.index(after: rest.startIndex)..<close].allSatisfy(\.isNumber) {
            rest = rest[rest.index(after: close)...]
        }
        if let space = rest.utf8.firstIndex(of: 0x20), let iso = Timestamp(parsing: String(rest[..<space])), rest[..<space].utf8.contains(UInt8(ascii: "-")) {
            time = iso
            rest = rest[rest.index(after: space)...]
        } else {
            // "Oct 24 17:05:31" or "Nov  2 15:40:14" or "Nov 2 15:40:14".
            let tokens = rest.utf8.split(separator: 0x20, maxSplits: 3, omittingEmptySubsequences: true).map { Substring($0) }
            guard tokens.count == 4, let month = Self.months.firstIndex(of: String(tokens[0])), let day = Int(tokens[1]) else { return nil }
            let parts = tokens[2].utf8.split(separator: UInt8(ascii: ":")).map { Substring($0) }
            guard parts.count == 3, let hour = Int(parts[0]), let minute = Int(parts[1]), let second = Int(parts[2]) else { return nil }
            let year = now.year
            guard var stamp = Timestamp(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second) else { return nil }
            if stamp.microseconds > now.microseconds + 86_400_000_000,
                let previous = Timestamp(year: year - 1, month: month + 1, day: day, hour: hour, minute: minute, second: second)
            {
                stamp = previous
            }
            time = stamp
            rest = tokens[3]
        }
        guard let hostEnd = rest.utf8.firstIndex(of: 0x20) else { return nil }
        hostname = String(rest[..<hostEnd])
        rest = rest[rest.index(after: hostEnd)...]
        guard let colon = rest.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var tag = rest[..<colon]
        // Byte searches: Foundation's `contains` of a string bridges to NSString's range(of:).
        guard !tag.isEmpty, !tag.utf8.contains(0x20) else { return nil }
        if let open = tag.firstIndex(of: "["), tag.last == "]" {
            pid = String(tag[tag.index(after: open)..<tag.index(before: tag.endIndex)])
            tag = tag[..<open]
        } else {
            pid = nil
        }
        program = String(tag)
        message = rest[rest.index(after: colon)...].drop { $0 == " " }
    }
}

/// Decodes the five predefined XML entities and numeric character references.
func decodeXMLEntities(_ text: Substring) -> String {
    guard text.utf8.contains(UInt8(ascii: "&")) else { return String(text) }
    var output = ""
    var rest = text
    while let amp = rest.firstIndex(of: "&") {
        output += rest[..<amp]
        guard let semicolon = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semicolon) <= 10 else {
            output += "&"
            rest = rest[rest.index(after: amp)...]
            continue
        }
        let entity = rest[rest.index(after: amp)..<semicolon]
        switch entity {
        case "lt": output += "<"
        case "gt": output += ">"
        case "amp": output += "&"
        case "quot": output += "\""
        case "apos": output += "'"
        default:
            if entity.hasPrefix("#x"), let value = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(value) {
                output.unicodeScalars.append(scalar)
            } else if entity.hasPrefix("#"), let value = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(value) {
                output.unicodeScalars.append(scalar)
            } else {
                output += rest[amp...semicolon]
            }
        }
        rest = rest[rest.index(after: semicolon)...]
    }
    return output + rest
}
