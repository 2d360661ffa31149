import ArgumentParser
import VigilPipeline
import Foundation
import VigilModel
import VigilPostgres
import VigilStore

/// `--db PATH` and `--store URL`, shared by every command that opens the database.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The database file (default: $VIGIL_DB, else ./vigil.sqlite).")
    var db: String?

    @Option(name: .customLong("store"), help: ArgumentHelp(
        "A PostgreSQL store instead of the SQLite file: postgresql://user@host[:port]/database (default: $VIGIL_STORE).",
        discussion: "The password comes from the URL or PGPASSWORD. init, import, serve (as an ingest node), the read-only commands (alerts, alert show, incidents, incident show, machines, events, imports, rejected, audit), triage (alert update, incident update), delivery (notify, deliver), rules (list, add, history, disable, enable), compatibility, detection-test --verify, query and detections (with --hunting-store), integration, apikey, check, purge and backup (with pg_dump) run on PostgreSQL."))
    var storeURL: String?

    var path: String { db ?? ProcessInfo.processInfo.environment["VIGIL_DB"] ?? "vigil.sqlite" }

    /// The PostgreSQL store that --store or VIGIL_STORE names, or nil for the SQLite file.
    func postgresURL() throws -> PostgresURL? {
        let environment = ProcessInfo.processInfo.environment
        guard storeURL == nil || db == nil else { throw ValidationError("name the store with --store or --db, not both") }
        // An explicit --db wins over VIGIL_STORE.
        guard let text = storeURL ?? (db == nil ? environment["VIGIL_STORE"] : nil), !text.isEmpty else { return nil }
        do { return try PostgresURL(text, environment: environment) } catch { throw CLIError(error.description) }
    }

    /// Opens (creating or migrating) the PostgreSQL store at `url`.
    func openPostgres(_ url: PostgresURL) throws -> PostgresStore {
        do { return try PostgresStore(url: url) } catch { throw CLIError("\(error)") }
    }

    /// The alerts, incidents and audit log of whichever store is named: the read-only commands
    /// and triage (`alert update`, `incident update`).
    func openAlerts() throws -> any AlertQueries & AlertTriage & AuditLog {
        if let url = try postgresURL() { return try openPostgres(url) }
        return try open()
    }

    /// The delivery subscriptions and outbox of whichever store is named: `notify` and `deliver`.
    func openDelivery(creating: Bool = false) throws -> any DeliveryStore {
        if let url = try postgresURL() { return try openPostgres(url) }
        return try open(creating: creating)
    }

    /// The custom detections of whichever store is named: `detections`.
    func openCustomDetections(creating: Bool = false) throws -> any CustomDetectionStore {
        if let url = try postgresURL() { return try openPostgres(url) }
        return try open(creating: creating)
    }

    /// The compatibility list of whichever store is named.
    func openCompatibility(creating: Bool = false) throws -> any CompatibilityList {
        if let url = try postgresURL() { return try openPostgres(url) }
        return try open(creating: creating)
    }

    /// The stored rules and rule switches of whichever store is named: `rules`.
    func openRules(creating: Bool = false) throws -> any RuleStore {
        if let url = try postgresURL() { return try openPostgres(url) }
        return try open(creating: creating)
    }

    /// The integrations, tokens and API keys of whichever store is named.
    func openIntegrations(creating: Bool = false) throws -> any IntegrationsAndTokens {
        if let url = try postgresURL() { return try openPostgres(url) }
        return try open(creating: creating)
    }

    init() {}

    /// Options naming `db` directly, for commands that open a second database.
    init(db: String) {
        self.db = db
        storeURL = nil
    }

    /// Opens the SQLite database. Only the commands that set Vigil up (`init`, `import`, `serve`,
    /// `integration on|add|token`, `apikey create`, `compatibility add`, `rules disable|enable`)
    /// pass `creating`; every other command refuses a path with no database, so a mistyped
    /// `--db` is an error instead of a new, empty database that shows nothing.
    func open(creating: Bool = false) throws -> Store {
        if let url = try postgresURL() {
            // Every command branches to PostgreSQL before it opens the SQLite file.
            assertionFailure("a command opened the SQLite file with a PostgreSQL store named")
            throw CLIError("this step reads the SQLite file only, and \(url) is a PostgreSQL store; leave out --store (and VIGIL_STORE) to use --db's SQLite file")
        }
        guard creating || FileManager.default.fileExists(atPath: path) else {
            throw CLIError("there is no Vigil database at \(path); create one with `vigil init`, or point --db or VIGIL_DB at an existing one")
        }
        do {
            let store = try Store(path: path)
            try store.markInterruptedImports()
            return store
        } catch {
            throw CLIError(error.description)
        }
    }

    /// Takes `store`'s writer lock for this process; exits 75 at once when another process holds it.
    func lockForWriting(_ store: Store, holder: String) throws -> WriterLock {
        do {
            return try store.acquireWriterLock(holder: holder)
        } catch where error.code == .busy {
            writeStderr("error: \(error.description)")
            throw ExitCode(75)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// `--format`, shared by every listing command.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .table
}

extension OutputFormat: ExpressibleByArgument {}

/// A failure to report on stderr, exiting 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The local user, recorded as the actor in the audit log.
var currentActor: String {
    if let user = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] { return user }
    if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return "uid \(getuid())"
}

/// Parses `--since`/`--until`: ISO 8601, or a time relative to now such as `30m`, `24h`, `7d`, `2w`.
func parseTimeArgument(_ text: String, option: String) throws -> Timestamp {
    guard let time = Timestamp(absoluteOrRelative: text) else {
        throw ValidationError("\(option) '\(text)' is neither ISO 8601 (2026-11-27T10:00:00Z) nor relative (30m, 24h, 7d, 2w)")
    }
    return time
}

func writeStderr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// The event-time guard of correlation, shared by `import` and `serve`.
struct CorrelationOptions: ParsableArguments {
    @Option(name: .customLong("max-future-skew"),
            help: "How far after its arrival an event may be dated and still enter a correlation window (30m, 24h, 7d); later ones are stored, flagged future_time and counted, but never move correlation time.")
    var maxFutureSkew = DurationArgument(seconds: 86_400)
}

/// A duration typed as `90s`, `30m`, `24h`, `7d`, `2w` or plain seconds.
/// A duration down to milliseconds: `250ms`, `2s`, `5m`.
struct PreciseDurationArgument: ExpressibleByArgument, CustomStringConvertible {
    let milliseconds: Int64

    init(milliseconds: Int64) { self.milliseconds = milliseconds }

    init?(argument: String) {
        guard let milliseconds = DurationText.milliseconds(argument) else { return nil }
        self.milliseconds = milliseconds
    }

    var duration: Duration { .milliseconds(milliseconds) }
    var description: String { milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms" }
}

struct DurationArgument: ExpressibleByArgument, CustomStringConvertible {
    let seconds: Int64

    init(seconds: Int64) { self.seconds = seconds }

    init?(argument: String) {
        guard let seconds = DurationText.seconds(argument) else { return nil }
        self.seconds = seconds
    }

    var duration: Duration { .seconds(seconds) }
    var description: String { seconds % 3600 == 0 ? "\(seconds / 3600)h" : "\(seconds)s" }
}
