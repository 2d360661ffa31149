/// A syslog receiver's address, `host:port` or `[v6]:port`.
public struct SyslogAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { return nil }
        }
        guard !hostPart.isEmpty, hostPart.count <= 253, !hostPart.contains(where: { $0.isWhitespace || $0 == "/" }),
              let port = Int(portPart), (1...65_535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }
}
