import VigilModel

/// Mobile threat defense incidents as JSON (the Azure Sentinel custom-log shape of Better
/// Mobile and similar products): each becomes an `antivirus` event of an iOS or Android machine.
public struct MobileThreatDefenseParser: EventParser {
    public static let format = "mobile-threat-defense"
    public static let isStateless = true

    /// Vendor keys → Sigma names.
    public static let map = FieldMap([
        ("ThreatTitle_s", "Signature"), ("ThreatType_s", "Signature"), ("threat_name", "Signature"), ("threatName", "Signature"),
        ("Status_s", "Action"), ("status", "Action"), ("AppName_s", "Filename"), ("app_name", "Filename"),
        // The vendor's words: what the threat is, how it titles the finding, how severe it says it is.
        ("ThreatType_s", "threat_name"), ("threatName", "threat_name"), ("ThreatTitle_s", "threat_name"),
        ("ThreatTitle_s", "vendor_title"), ("title", "vendor_title"),
        ("ThreatSeverity_s", "vendor_severity"), ("severity", "vendor_severity"), ("risk_level", "vendor_severity"),
    ])
    static let platformKeys = ["DevicePlatform_s", "device_platform", "platform", "os_type", "DeviceOSType_s"].map(FieldKey.init)
    static let versionKeys = ["DeviceOS_s", "os_version", "osVersion", "DeviceOSVersion_s"].map(FieldKey.init)
    static let hostKeys = ["DeviceName_s", "device_name", "Computer", "DeviceId_g", "device_id"].map(FieldKey.init)
    static let timeKeys = ["EventTimeStamp_t", "TimeGenerated", "timestamp", "event_time"].map(FieldKey.init)

    let context: ParserContext
    private var reader = JSONRecordReader()

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        var fields: [EventField]
        switch reader.fields(of: record) {
        case .failure(let rejection): return rejection
        case .success(let parsed): fields = parsed
        }
        guard let platformName = fields.first(Self.platformKeys) else {
            return RejectedRecord(line: record.line, reason: "not a mobile threat defense incident: no device platform", raw: record.text)
        }
        // Mobile threat defense reports iPhones and iPads as "Apple" (Better Mobile's
        // DevicePlatform_s, for one): on a mobile device that is iOS or iPadOS, never macOS.
        let platform = platformName.lowercased() == "apple" ? OSPlatform.ios : OSPlatform(reported: platformName)
        guard let time = fields.first(Self.timeKeys).flatMap(Timestamp.init(parsing:)) else {
            return RejectedRecord(line: record.line, reason: "the incident has no parsable time", raw: record.text)
        }
        Self.map.apply(to: &fields)
        events.append(Event(
            time: time,
            machine: MachineIdentity(hostname: fields.first(Self.hostKeys) ?? context.defaultHostname, platform: platform,
                                     osVersion: fields.first(Self.versionKeys)),
            sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: platform.sigmaProduct, category: "antivirus"), fields: fields, raw: record.text, line: record.line))
        return nil
    }
}
