import VigilModel

/// Turns framed records of one source format into normalized events.
///
/// A parser may hold state across records (auditd groups records by serial); `finish`
/// flushes what it still holds at the end of an input.
public protocol EventParser {
    /// The format name the CLI and API use (`json`, `auditd`, …).
    static var format: String { get }

    /// Parses one record, appending zero or more events; returns why it was rejected, if it was.
    mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord?

    /// Appends any events still held at the end of the input.
    mutating func finish(into events: inout [Event])
}

extension EventParser {
    public mutating func finish(into events: inout [Event]) {}
}

/// The source formats Vigil reads, and a parser for each.
public enum SourceFormat: String, CaseIterable, Sendable {
    case json
    case auditd

    /// A fresh parser for this format; `integration` is stamped on every event.
    public func makeParser(integration: String) -> any EventParser {
        switch self {
        case .json: JSONEventParser(integration: integration)
        case .auditd: AuditdParser(integration: integration)
        }
    }
}
