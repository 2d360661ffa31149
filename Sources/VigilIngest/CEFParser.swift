import Foundation
import VigilModel

/// Common Event Format from antivirus, EDR and mobile-threat-defense products, bare
/// (`CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value …`) or after a syslog header.
///
/// Header escapes (`\|`, `\\`) and extension escapes (`\=`, `\\`, `\n`, `\r`) follow the CEF
/// specification. Events are category `antivirus`, with the header as `DeviceVendor`,
/// `DeviceProduct`, `DeviceVersion`, `SignatureID`, `Name`, `Severity`; each extension key
/// kept, and each `csN` also under its `csNLabel`. `Signature` is the custom string labelled
/// as the threat (Malware, Threat, Virus, …), else the quoted name in a `"X" was detected`
/// message, else a `threatName`-like key; a record with none of these (a web block, a
/// setting change) carries no `Signature`; `Filename` comes from `fname`,
/// `filePath` or an "Infected object"/"File" label; `Action` from `act`. The machine is
/// `dhost`, `shost` or `dvchost`; the platform comes from an OS key or label, or the product name.
public struct CEFParser: EventParser {
    public static let format = "cef"
    public static let isStateless = true

    static let headerNames = ["CEFVersion", "DeviceVendor", "DeviceProduct", "DeviceVersion", "SignatureID", "Name", "Severity"]
    static let threatLabels: [StaticString] = ["malware", "threat", "virus", "signature", "detection name", "threat name"]
    /// Fields a record may gain past its header and extensions: Signature, threat_name,
    /// vendor_title, vendor_severity, Filename, Action.
    private static let mostDerivedFields = 6
    static let fileLabels = ["infected object", "file", "file path", "filename"]
    static let osKeys = ["deviceOsName", "os", "deviceOs", "dvcos", "osName", "cs_os", "platform"]
    static let versionKeys = ["deviceOsVersion", "osVersion", "os_version"]

    let context: ParserContext
    private var keys = FieldKeyCache()

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        let text = record.text
        guard let start = text.byteRange(of: "CEF:") else {
            return RejectedRecord(line: record.line, reason: "not a CEF record: no 'CEF:' header", raw: text)
        }
        let syslog = start.lowerBound > text.startIndex ? SyslogHeader(String(text[..<start.lowerBound]) + ": x", now: context.now) : nil
        let headerStart = text.utf8.distance(from: text.startIndex, to: start.upperBound)
        var bytesOfText = text
        let (header, extensions) = bytesOfText.withUTF8 { bytes in
            // The header as bytes: `|` separates, `\` escapes the next byte (both ASCII).
            var header: [String] = []
            header.reserveCapacity(7)
            var current: [UInt8] = []
            var index = headerStart
            var escaped = false
            while index < bytes.count, header.count < 7 {
                let byte = bytes[index]
                if escaped {
                    current.append(byte)
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "|") {
                    header.append(String(decoding: current, as: UTF8.self))
                    current.removeAll(keepingCapacity: true)
                } else {
                    current.append(byte)
                }
                index += 1
            }
            return (header, header.count == 7 ? Self.parseExtension(UnsafeBufferPointer(rebasing: bytes[index...])) : [])
        }
        guard header.count == 7 else {
            return RejectedRecord(line: record.line, reason: "the CEF header has \(header.count + 1) of its 8 '|'-separated fields", raw: text)
        }
        var fields: [EventField] = []
        fields.reserveCapacity(Self.headerNames.count + 2 * extensions.count + Self.mostDerivedFields)
        for (name, value) in zip(Self.headerNames, header) { fields.append(EventField(keys.key(for: name), value)) }
        var labels: [String: String] = [:]
        for (key, value) in extensions where key.hasSuffix("Label") { labels[String(key.dropLast(5))] = value }
        var signature: String?
        var filename: String?
        for (key, value) in extensions {
            fields.append(EventField(keys.key(for: key), value))
            if let label = labels[key] {
                fields.append(EventField(keys.key(for: label), value))
                let lowered = label.lowercased()
                if signature == nil, Self.threatLabels.contains(where: { lowered.hasBytes($0) }) { signature = value }
                if filename == nil, Self.fileLabels.contains(lowered) { filename = value }
            }
        }
        let extensionValue = { (names: [String]) in names.lazy.compactMap { name in extensions.first { $0.key == name }?.value }.first { !$0.isEmpty } }
        // Many products name the threat only in the message: `"EICAR_Test_File" was detected …`.
        if signature == nil, let message = extensionValue(["msg"]), message.hasPrefix("\""),
            let close = message.dropFirst().firstIndex(of: "\""), message[close...].hasPrefix("\" was detected")
        {
            signature = String(message[message.index(after: message.startIndex)..<close])
        }
        if signature == nil { signature = extensionValue(["threatName", "malwareName", "virusName", "threat"]) }
        if let signature {
            fields.append(EventField(keys.key(for: "Signature"), signature))
            fields.append(EventField(keys.key(for: "threat_name"), signature))
        }
        // The vendor's own words for the finding: its name and severity from the header.
        if !header[5].isEmpty { fields.append(EventField(keys.key(for: "vendor_title"), header[5])) }
        if !header[6].isEmpty { fields.append(EventField(keys.key(for: "vendor_severity"), header[6])) }
        if let file = extensionValue(["fname", "filePath"]) ?? filename { fields.append(EventField(keys.key(for: "Filename"), file)) }
        if let action = extensionValue(["act"]) { fields.append(EventField(keys.key(for: "Action"), action)) }

        let labelledOS = labels.first { ["os", "platform", "device os", "operating system"].contains($0.value.lowercased()) }
            .flatMap { label in extensions.first { $0.key == label.key }?.value }
        let reportedOS = extensionValue(Self.osKeys) ?? labelledOS
        var platform = reportedOS.map(OSPlatform.init(reported:)) ?? .unknown
        if platform == .unknown { platform = OSPlatform(reported: header[2]) }
        let hostname = extensionValue(["dhost", "shost", "dvchost", "deviceHostName"]) ?? syslog?.hostname ?? context.defaultHostname
        let stated = extensionValue(["rt", "end", "start", "deviceReceiptTime", "details_clientTimestamp"])
        let time: (time: Timestamp, fromIngest: Bool)
        if stated == nil, let headerTime = syslog?.time {
            time = (headerTime, false)
        } else {
            switch context.time(stated, parse: Self.time) {
            case .success(let read): time = read
            case .failure(let refusal): return RejectedRecord(line: record.line, reason: refusal.reason, raw: text)
            }
        }
        var event = Event(
            time: time.time, machine: MachineIdentity(hostname: hostname, platform: platform, osVersion: extensionValue(Self.versionKeys)),
            sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: platform.sigmaProduct, category: "antivirus"), fields: fields, raw: text, line: record.line)
        if time.fromIngest { event.markTimeFromIngest() }
        events.append(event)
        return nil
    }

    /// Splits `key=value key2=value two` into pairs: a value runs to the next ` key=`.
    package static func parseExtension(_ text: UnsafeBufferPointer<UInt8>) -> [(key: String, value: String)] {
        // Bytes, not Characters: every delimiter is ASCII, and escapes only ever drop a backslash.
        var pairs: [(key: String, value: String)] = []
        var key: [UInt8] = []
        var hasKey = false
        var value: [UInt8] = []
        var token: [UInt8] = []
        func finishValue() {
            guard hasKey, !key.isEmpty else { return }
            var trimmed = value[...]
            while let first = trimmed.first, first == 0x20 || first == 0x09 { trimmed.removeFirst() }
            while let last = trimmed.last, last == 0x20 || last == 0x09 { trimmed.removeLast() }
            pairs.append((String(decoding: key, as: UTF8.self), String(decoding: trimmed, as: UTF8.self)))
        }
        var index = 0
        while index < text.count {
            // The run up to the next backslash or `=` joins the token at once.
            let stop = text.firstIndex(ofAny: UInt8(ascii: "\\"), UInt8(ascii: "="), UInt8(ascii: "="), in: index..<text.count) ?? text.count
            token.append(contentsOf: UnsafeBufferPointer(rebasing: text[index..<stop]))
            guard stop < text.count else { break }
            index = stop + 1
            if text[stop] == UInt8(ascii: "\\") {
                guard index < text.count else {
                    token.append(text[stop])
                    break
                }
                switch text[index] {
                case UInt8(ascii: "n"): token.append(0x0A)
                case UInt8(ascii: "r"): token.append(0x0D)
                default: token.append(text[index])
                }
                index += 1
                continue
            }
            // `token` ends with the next key: the text after its last space.
            if let space = token.lastIndex(of: 0x20) {
                value += token[..<space]
                finishValue()
                key.removeAll(keepingCapacity: true)
                key += token[(space + 1)...]
            } else {
                if hasKey {
                    value += token
                    finishValue()
                }
                key.removeAll(keepingCapacity: true)
                key += token
            }
            hasKey = true
            value.removeAll(keepingCapacity: true)
            token.removeAll(keepingCapacity: true)
        }
        value += token
        finishValue()
        return pairs
    }

    /// `rt` and friends: epoch milliseconds, or `MMM dd yyyy HH:mm:ss[.fraction][ zone]`.
    /// Every number is range-checked, so crafted digits give nil, never an overflow.
    static func time(_ text: String) -> Timestamp? {
        if let epoch = Timestamp(parsing: text) { return epoch }
        let parts = text.split(separator: " ")
        guard parts.count >= 4, let month = SyslogHeader.months.firstIndex(of: String(parts[0])), let day = Int(parts[1]),
            let year = Int(parts[2])
        else { return nil }
        let clockAndFraction = parts[3].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let clock = clockAndFraction[0].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard clock.count == 3, let hour = clock[0], let minute = clock[1], let second = clock[2] else { return nil }
        var microsecond = 0
        if clockAndFraction.count == 2 {
            guard let fraction = Self.microseconds(ofFraction: clockAndFraction[1]) else { return nil }
            microsecond = fraction
        }
        return Timestamp(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second, microsecond: microsecond)
    }

    /// The digits after a decimal point as microseconds (digits past the sixth are dropped);
    /// nil unless they are one or more ASCII digits.
    static func microseconds(ofFraction digits: Substring) -> Int? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var value = 0
        var scale = 100_000
        for byte in digits.utf8.prefix(6) {
            value += Int(byte - 48) * scale
            scale /= 10
        }
        return value
    }
}
