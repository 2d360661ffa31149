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
    /// Each month's three bytes as one number, in `months`' order.
    private static let packedMonths: [UInt32] = months.map { $0.utf8.reduce(0) { $0 << 8 | UInt32($1) } }

    /// The month (0 for January) that the bytes in `word` name, as `months` spells it.
    static func month(_ bytes: UnsafeBufferPointer<UInt8>, _ word: Range<Int>) -> Int? {
        guard word.count == 3 else { return nil }
        return packedMonths.firstIndex(of: bytes[word].reduce(0) { $0 << 8 | UInt32($1) })
    }

    init?(_ line: String, now: Timestamp = .now()) {
        var text = line
        guard let header = text.withUTF8({ Self.read($0, now: now) }) else { return nil }
        time = header.time
        hostname = header.hostname
        program = header.program
        pid = header.pid
        // The message starts right after an ASCII byte, so its offset is a scalar boundary of `line`.
        message = line[line.utf8.index(line.startIndex, offsetBy: header.messageStart)...]
    }

    /// A header read from a line's UTF-8 bytes, with the offset of its message.
    private struct ReadHeader {
        var time: Timestamp
        var hostname: String
        var program: String
        var pid: String?
        var messageStart: Int
    }

    /// Reads a header over the line's bytes by offset: every delimiter is ASCII.
    private static func read(_ bytes: UnsafeBufferPointer<UInt8>, now: Timestamp) -> ReadHeader? {
        let end = bytes.count
        var position = 0
        // Optional RFC 3164 priority: <34>
        if end > 0, bytes[0] == UInt8(ascii: "<"), let close = bytes.firstIndex(of: UInt8(ascii: ">"), in: 1..<end),
           (1..<close).allSatisfy({ bytes[$0] &- UInt8(ascii: "0") < 10 }) {
            position = close + 1
        }
        let time: Timestamp
        if let space = bytes.firstIndex(of: 0x20, in: position..<end), bytes.firstIndex(of: UInt8(ascii: "-"), in: position..<space) != nil,
           let iso = Timestamp(parsing: bytes.string(position..<space)) {
            time = iso
            position = space + 1
        } else {
            // "Oct 24 17:05:31" or "Nov  2 15:40:14" or "Nov 2 15:40:14": three words, then
            // what follows the space after the third.
            var index = position
            func nextWord() -> Range<Int>? {
                while index < end, bytes[index] == 0x20 { index += 1 }
                guard index < end else { return nil }
                let wordEnd = bytes.firstIndex(of: 0x20, in: index..<end) ?? end
                defer { index = wordEnd + 1 }
                return index..<wordEnd
            }
            guard let monthWord = nextWord(), let dayWord = nextWord(), let clockWord = nextWord(), index < end,
                  let month = Self.month(bytes, monthWord),
                  let day = bytes.integer(dayWord),
                  let clock = timeOfDay(bytes, clockWord) else { return nil }
            let year = now.year
            guard var stamp = Timestamp(year: year, month: month + 1, day: day, hour: clock.hour, minute: clock.minute, second: clock.second) else { return nil }
            if stamp.microseconds > now.microseconds + 86_400_000_000,
                let previous = Timestamp(year: year - 1, month: month + 1, day: day, hour: clock.hour, minute: clock.minute, second: clock.second)
            {
                stamp = previous
            }
            time = stamp
            position = index
        }
        guard let hostEnd = bytes.firstIndex(of: 0x20, in: position..<end) else { return nil }
        let hostname = bytes.string(position..<hostEnd)
        position = hostEnd + 1
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":"), in: position..<end) else { return nil }
        var tag = position..<colon
        guard !tag.isEmpty, bytes.firstIndex(of: 0x20, in: tag) == nil else { return nil }
        var pid: String?
        if let open = bytes.firstIndex(of: UInt8(ascii: "["), in: tag), bytes[colon - 1] == UInt8(ascii: "]") {
            pid = bytes.string(open + 1..<colon - 1)
            tag = tag.lowerBound..<open
        }
        var messageStart = colon + 1
        while messageStart < end, bytes[messageStart] == 0x20 { messageStart += 1 }
        return ReadHeader(time: time, hostname: hostname, program: bytes.string(tag), pid: pid, messageStart: messageStart)
    }

    /// `hh:mm:ss` (empty parts between colons are skipped, as a split would).
    static func timeOfDay(_ bytes: UnsafeBufferPointer<UInt8>, _ word: Range<Int>) -> (hour: Int, minute: Int, second: Int)? {
        var parts = (0, 0, 0)
        var count = 0
        var index = word.lowerBound
        while index < word.upperBound {
            let partEnd = bytes.firstIndex(of: UInt8(ascii: ":"), in: index..<word.upperBound) ?? word.upperBound
            if partEnd > index {
                guard count < 3, let value = bytes.integer(index..<partEnd) else { return nil }
                switch count {
                case 0: parts.0 = value
                case 1: parts.1 = value
                default: parts.2 = value
                }
                count += 1
            }
            index = partEnd + 1
        }
        return count == 3 ? (parts.0, parts.1, parts.2) : nil
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
