import VigilModel

/// The integrations every new database knows.
public enum IntegrationCatalogue {
    public static let builtin: [IntegrationDefinition] = [
        IntegrationDefinition(name: "json", displayName: "Generic JSON (ECS/OCSF)", platforms: ["linux", "macos", "ios", "android"], formats: ["json"]),
        IntegrationDefinition(name: "auditd", displayName: "Linux auditd", platforms: ["linux"], formats: ["auditd"]),
        IntegrationDefinition(name: "syslog", displayName: "Linux syslog", platforms: ["linux"], formats: ["syslog"]),
        IntegrationDefinition(name: "sysmon-linux", displayName: "Sysmon for Linux", platforms: ["linux"], formats: ["sysmon-linux"]),
        IntegrationDefinition(name: "osquery", displayName: "osquery", platforms: ["linux", "macos"], formats: ["osquery"]),
        IntegrationDefinition(name: "clamav", displayName: "ClamAV", platforms: ["linux", "macos"], formats: ["clamav"]),
        IntegrationDefinition(name: "santa", displayName: "Santa", platforms: ["macos"], formats: ["santa"]),
        IntegrationDefinition(name: "jamf-protect", displayName: "Jamf Protect", platforms: ["macos", "ios"], formats: ["jamf-protect", "eslogger", "unified-log"]),
        IntegrationDefinition(name: "eslogger", displayName: "Apple Endpoint Security (eslogger)", platforms: ["macos"], formats: ["eslogger", "unified-log"]),
        IntegrationDefinition(name: "cef", displayName: "CEF antivirus and EDR", platforms: ["linux", "macos", "ios", "android"], formats: ["cef"]),
        IntegrationDefinition(name: "mobile-threat-defense", displayName: "Mobile threat defense", platforms: ["ios", "android"], formats: ["mobile-threat-defense", "cef", "json"]),
    ]
}
