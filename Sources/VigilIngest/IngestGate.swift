import VigilModel

/// The gate's rules: may data from an integration, in a format, enter the store?
///
/// Every path into the store asks the gate first; a refused batch stores nothing.
public enum IngestGate {
    /// What the gate needs to know about an integration.
    public struct IntegrationState: Sendable {
        public var name: String
        public var enabled: Bool
        public var formats: [String]
        /// The OS platforms its machines run (`linux`, `macos`, …); empty means any.
        public var platforms: [String]

        public init(name: String, enabled: Bool, formats: [String], platforms: [String] = []) {
            self.name = name
            self.enabled = enabled
            self.formats = formats
            self.platforms = platforms
        }
    }

    /// Why the gate refused.
    public enum Refusal: Error, Equatable, CustomStringConvertible, Sendable {
        case unknownIntegration(String)
        case integrationOff(String)
        case formatNotSent(integration: String, format: String, sends: [String])

        public var description: String {
            switch self {
            case .unknownIntegration(let name):
                "there is no integration called '\(name)'. See `vigil integration list`, or add one with `vigil integration add`."
            case .integrationOff(let name):
                "the integration '\(name)' is off, so its data is refused and nothing was stored. Turn it on with `vigil integration on \(name)`."
            case .formatNotSent(let integration, let format, let sends):
                "the integration '\(integration)' does not send '\(format)' data (it sends: \(sends.joined(separator: ", "))). Pick the right --integration or --format."
            }
        }
    }

    /// Why `event` may not enter through `integration` with a token bound to `machines`: it
    /// names a machine the token is not bound to, or one of a platform the integration does not
    /// cover (a Linux syslog integration sending an "android" machine). Nil when it may.
    public static func refusal(of event: Event, from integration: IntegrationState, token machines: HostPatterns = HostPatterns([])) -> String? {
        if isBlank(event.machine.hostname) {
            return "the record names its machine with an empty host name; fix the record or leave the host out so --hostname applies"
        }
        if !machines.admit(event.machine.hostname) {
            return "the push token may carry data only of machines matching \(machines.patterns.joined(separator: ", ")), not \(event.machine.hostname); "
                + "push it with a token for that machine"
        }
        let platform = event.machine.platform
        guard platform != .unknown, !integration.platforms.isEmpty, !integration.platforms.contains(platform.rawValue) else { return nil }
        return "the machine \(event.machine.hostname) is \(platform.rawValue), and the integration '\(integration.name)' covers only "
            + "\(integration.platforms.joined(separator: ", ")) machines; send it through an integration for \(platform.rawValue)"
    }

    /// Whether `hostname` is empty or only white space. A printable ASCII byte (nearly every
    /// host name starts with one) settles it before any Unicode property is looked up: asked of
    /// every event, the check by characters took 1% of an import's CPU.
    private static func isBlank(_ hostname: String) -> Bool {
        if let first = hostname.utf8.first, first > 0x20, first < 0x7F { return false }
        return hostname.allSatisfy { $0.isWhitespace || $0.isNewline }
    }

    /// Admits a batch of `format` data from `integration`, or says why not; a nil format
    /// checks only that the integration exists and is on.
    public static func admit(_ integration: IntegrationState?, named name: String, format: String?) throws(Refusal) {
        guard let integration else { throw .unknownIntegration(name) }
        guard integration.enabled else { throw .integrationOff(name) }
        if let format, !integration.formats.contains(format) {
            throw .formatNotSent(integration: name, format: format, sends: integration.formats)
        }
    }
}
