import VigilModel
import VigilStore

/// How alerts are grouped into incidents, as data.
public struct IncidentPolicy: Sendable {
    /// Alerts on one machine this close in event time share an incident.
    public var machineWindow: Duration = .seconds(24 * 3600)
    /// Alerts on different machines sharing an indicator this close share an incident.
    public var indicatorWindow: Duration = .seconds(24 * 3600)
    /// The same rule on different machines this close is a burst, one incident.
    public var burstWindow: Duration = .seconds(3600)

    public init() {}

    /// Fields whose values are indicators, and the kind each is.
    static let indicatorFields: [(field: FieldKey, kind: String)] = [
        (FieldKey("sha256"), "sha256"), (FieldKey("sha1"), "sha1"), (FieldKey("md5"), "md5"),
        (FieldKey("file.hash.sha256"), "sha256"), (FieldKey("file.hash.sha1"), "sha1"), (FieldKey("file.hash.md5"), "md5"),
        (FieldKey("DestinationIp"), "ip"), (FieldKey("SourceIp"), "ip"), (FieldKey("rhost"), "ip"),
    ]
    static let hashesField = FieldKey("Hashes")

    /// The indicators an event carries: file hashes (lowercased) and remote IPs.
    static func indicators(of event: Event) -> [Indicator] {
        var found: [Indicator] = []
        for field in event.fields {
            if let entry = indicatorFields.first(where: { $0.field == field.key }) {
                let value = field.value.lowercased()
                if entry.kind == "ip", value.isEmpty || value == "127.0.0.1" || value == "::1" || value == "-" { continue }
                found.append(Indicator(kind: entry.kind, value: value))
            } else if field.key == hashesField {
                // Sysmon style: SHA256=…,MD5=…
                for part in field.value.split(separator: ",") {
                    let pair = part.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2 else { continue }
                    let kind = pair[0].lowercased().filter { $0 != "-" }
                    if ["sha256", "sha1", "md5"].contains(kind) { found.append(Indicator(kind: kind, value: pair[1].lowercased())) }
                }
            }
        }
        return found
    }
}

extension Duration {
    /// `24h`, `5m` or `90s`: how incident reasons name a window.
    var reasonText: String {
        let seconds = components.seconds
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
