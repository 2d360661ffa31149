import PostgresNIO
import VigilModel
import VigilStore

extension PostgresStore: ImportTarget {}

/// The alert queries (`AlertQueries+SQL.swift`) and triage (`AlertTriage+SQL.swift`) in
/// PostgreSQL's dialect.
extension PostgresStore: SQLWriter, AlertQueries, AlertTriage, DeliveryStore, CompatibilityList, RuleStore, ConsoleSessionStore,
    CustomDetectionStore {
    public var dialect: SQLDialect { .postgresql }

    public func read<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> [T] {
        try session.query(dialect.placeholders(in: sql), values.map(\.postgresValue)).map { try transform(ReadRow(row: $0)) }
    }

    public func write(_ sql: String, _ values: [SQLParameter]) throws -> Int {
        try session.execute(dialect.placeholders(in: sql), values.map(\.postgresValue))
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try session.transaction(body)
    }

    /// A row read as SQLite reads one: NULL is 0 or empty text.
    struct ReadRow: SQLRow {
        let row: PostgresRandomAccessRow
        func int(_ column: String) throws -> Int64 { try row.optionalInt(column) ?? 0 }
        func optionalInt(_ column: String) throws -> Int64? { try row.optionalInt(column) }
        func text(_ column: String) throws -> String { try row.optionalText(column) ?? "" }
        func optionalText(_ column: String) throws -> String? { try row.optionalText(column) }
    }
}

extension PostgresWriter: SQLWriter, CustomDetectionWriter {
    public var dialect: SQLDialect { .postgresql }

    public func read<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> [T] {
        try session.query(dialect.placeholders(in: sql), values.map(\.postgresValue)).map { try transform(PostgresStore.ReadRow(row: $0)) }
    }

    public func write(_ sql: String, _ values: [SQLParameter]) throws -> Int {
        try session.execute(dialect.placeholders(in: sql), values.map(\.postgresValue))
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try session.transaction(body)
    }
}

extension PostgresStore {
    /// Holds the correlator role for as long as this store's connection lives (or until
    /// `releaseCorrelator`): one import or node at a time keeps the correlation windows.
    /// Waits for the holder when `wait`; otherwise says whether the role was free.
    @discardableResult
    public func acquireCorrelator(wait: Bool) throws -> Bool {
        if wait {
            try session.execute("SELECT pg_advisory_lock($1)", [Self.correlatorLock])
            return true
        }
        return try session.query("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END::int8 AS held", [Self.correlatorLock])
            .first?.int("held") == 1
    }

    /// The advisory lock of the correlator role ("VIGILCOR" in ASCII).
    static let correlatorLock: Int64 = 0x5649_4749_4C43_4F52
}

extension SQLParameter {
    var postgresValue: (any PostgresDynamicTypeEncodable)? {
        switch self {
        case .int(let number): number
        case .text(let text): storable(text)
        case .null: nil
        }
    }
}
