import VigilModel
import VigilStore

/// The store ceilings for `vigil bench`:
/// - `measure`: raw prepared-statement inserts of event rows into a fresh database with Vigil's
///   schema and pragmas, batched like the writer batches. Nothing else happens per row, so this
///   is the fastest an import could store them in Vigil's schema.
/// - `measurePhysical`: the same rows appended to a plain table (the 12 columns, a sequential
///   rowid, no secondary index), so the schema's own cost shows: what SQLite can physically append.
public enum StoreCeiling {
    /// One events-table row, already serialized.
    public struct Row: Sendable {
        public var time: Int64
        public var integration: String
        public var format: String
        public var product: String?
        public var category: String?
        public var service: String?
        public var fields: String
        public var raw: String
        public var line: Int64

        public init(time: Int64, integration: String, format: String, product: String?, category: String?, service: String?, fields: String, raw: String, line: Int64) {
            self.time = time
            self.integration = integration
            self.format = format
            self.product = product
            self.category = category
            self.service = service
            self.fields = fields
            self.raw = raw
            self.line = line
        }
    }

    /// Appends `total` rows, cycling through `pool`, to a plain table of the events' 12 columns
    /// with a sequential rowid and no secondary index, 8,192 per transaction through one
    /// prepared statement, in a new database at `path` in WAL mode with `synchronous = NORMAL`.
    /// Returns rows/s.
    public static func measurePhysical(path: String, pool: [Row], total: Int, batchSize: Int = 8_192) throws -> Double {
        precondition(!pool.isEmpty)
        let connection = try Connection(path: path)
        try connection.execute("""
            CREATE TABLE events (id INTEGER PRIMARY KEY, key INTEGER, time INTEGER, machine_id INTEGER, integration TEXT,
                source_format TEXT, product TEXT, category TEXT, service TEXT, fields TEXT, raw TEXT, import_id INTEGER, line INTEGER)
            """)
        let insert = try connection.statement("""
            INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, import_id, line)
            VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
            """)
        return try timedBatches(connection, insert: insert, pool: pool, total: total, batchSize: batchSize)
    }

    /// Inserts `total` rows, cycling through `pool` with fresh storage keys shaped as
    /// `EventKey.storageKey(probe:)`'s are (the row's second, then 31 hash-like bits) into Vigil's
    /// events table and unique key index, `batchSize` per transaction, into a new database at `path`. Returns rows/s.
    public static func measure(path: String, pool: [Row], total: Int, batchSize: Int = 8_192) throws -> Double {
        precondition(!pool.isEmpty)
        let store = try Store(path: path)
        let connection = store.connection
        try connection.execute("INSERT INTO machines (id, hostname, os_platform, first_seen, last_seen) VALUES (1, 'bench', 'linux', 0, 0)")
        let insert = try connection.statement("""
            INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, import_id, line)
            VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, NULL, ?) ON CONFLICT(key) DO NOTHING
            """)
        return try timedBatches(store.connection, insert: insert, pool: pool, total: total, batchSize: batchSize)
    }

    /// Runs `insert` for `total` rows of `pool`, `batchSize` per transaction, with keys shaped
    /// like storage keys; returns rows/s.
    ///
    /// Each pass over the pool is filed after the one before, as a log's events are: its keys'
    /// seconds move on by the pool's span. (Reusing the pool's own seconds sent every pass back
    /// to the start of the key index, an insert into its middle that importing a log never
    /// makes, which understated the ceiling.)
    private static func timedBatches(_ connection: Connection, insert: Statement, pool: [Row], total: Int, batchSize: Int) throws -> Double {
        var keys = SplitMix64(seed: 0)
        let poolSeconds = pool.map { max($0.time / 1_000_000, 0) }
        let span = poolSeconds.max()! - poolSeconds.min()! + 1
        let clock = ContinuousClock()
        let started = clock.now
        var written = 0
        while written < total {
            let count = min(batchSize, total - written)
            try connection.transaction {
                for offset in 0..<count {
                    let (pass, index) = (written + offset).quotientAndRemainder(dividingBy: pool.count)
                    let row = pool[index]
                    insert.bindInt((poolSeconds[index] + Int64(pass) * span) << 31 | Int64(keys.next() >> 33), at: 1)
                    insert.bindInt(row.time, at: 2)
                    insert.bindText(row.integration, at: 3)
                    insert.bindText(row.format, at: 4)
                    if let product = row.product { insert.bindText(product, at: 5) } else { insert.bindNull(at: 5) }
                    if let category = row.category { insert.bindText(category, at: 6) } else { insert.bindNull(at: 6) }
                    if let service = row.service { insert.bindText(service, at: 7) } else { insert.bindNull(at: 7) }
                    insert.bindInt(row.line, at: 10)
                    // The large texts are bound in place, as the import's writer binds them.
                    try insert.withUnsafeTextInPlace(row.fields, at: 8) {
                        try insert.withUnsafeTextInPlace(row.raw, at: 9) { try insert.run() }
                    }
                }
            }
            written += count
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(total) / seconds
    }
}
