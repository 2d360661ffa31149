import CSQLite
import VigilModel

/// What `vigil purge` removed.
public struct PurgeOutcome: Sendable {
    public var eventsDeleted = 0
    /// Old events kept because an alert cites them.
    public var evidenceKept = 0
    public var transactions = 0
    /// Outbox entries older than the cutoff that every subscription had handled.
    public var outboxEntriesDeleted = 0
    /// Whole day partitions dropped (PostgreSQL).
    public var partitionsDropped = 0

    package init() {}
}
