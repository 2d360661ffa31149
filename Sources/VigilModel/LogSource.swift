/// A Sigma logsource: which product, category and service an event belongs to.
///
/// A rule applies to an event when every part the rule names equals the event's part.
public struct LogSource: Hashable, Sendable {
    public var product: String?
    public var category: String?
    public var service: String?

    public init(product: String? = nil, category: String? = nil, service: String? = nil) {
        self.product = product.map(Self.normalized)
        self.category = category.map(Self.normalized)
        self.service = service.map(Self.normalized)
    }

    /// `part` in lowercase. A name of Sigma's taxonomy comes back as one shared constant: the
    /// events of a source then share it instead of each holding a copy, and the writer, which
    /// compares each event's parts with the last event's, reads no memory a parser thread wrote.
    /// (A name of at most 15 UTF-8 bytes is held inline, with nothing to share, so it skips the
    /// look-up: every event's parser calls this.)
    public static func normalized(_ part: String) -> String {
        var part = part
        let needsLowercasing = part.withUTF8 { bytes in bytes.contains { $0 &- UInt8(ascii: "A") < 26 || $0 >= 0x80 } }
        let lowercased = needsLowercasing ? part.lowercased() : part
        guard lowercased.utf8.count > smallStringCapacity else { return lowercased }
        return taxonomy[lowercased] ?? lowercased
    }

    /// The most UTF-8 bytes a String holds inline on 64-bit platforms.
    private static let smallStringCapacity = 15

    private static let taxonomy: [String: String] = Dictionary(uniqueKeysWithValues: [
        "linux", "macos", "windows", "ios", "android",
        "process_creation", "process_termination", "process_access", "file_event", "file_change", "file_delete",
        "file_delete_detected", "file_rename", "file_access", "network_connection", "dns_query", "antivirus",
        "image_load", "raw_access_thread", "sysmon_status", "proxy", "webserver", "firewall",
        "auditd", "syslog", "sshd", "sudo", "cron", "auth", "clamav", "osquery", "systemd", "kernel", "vsftpd", "guacamole",
    ].map { ($0, $0) })

    /// True when every part this (rule) logsource names matches `event`'s part.
    public func covers(_ event: LogSource) -> Bool {
        (product == nil || product == event.product)
            && (category == nil || category == event.category)
            && (service == nil || service == event.service)
    }

    /// `product/category/service`, with `-` for parts that are not set.
    public var description: String {
        [product, category, service].map { $0 ?? "-" }.joined(separator: "/")
    }
}
