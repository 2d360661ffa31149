import ArgumentParser
import Foundation
import VigilModel
import VigilPostgres
import VigilStore

extension Vigil {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the database: SQLite integrity, foreign keys, and that imports, events, rejected records and alerts agree.",
            discussion: "Exits 0 when healthy, 1 with one line per problem otherwise.")

        @OptionGroup var store: StoreOptions

        func run() throws {
            let report: CheckReport
            if let url = try store.postgresURL() {
                do { report = try store.openPostgres(url).check() } catch let error as StoreError { throw CLIError(error.description) }
            } else {
                report = try store.open().check()
            }
            for problem in report.problems { print("problem  \(problem)") }
            print("\(report.isHealthy ? "ok" : "damaged"): \(report.imports) imports, \(report.events) events, \(report.alerts) alerts checked")
            if !report.isHealthy {
                writeStderr("restore the latest `vigil backup`, or rerun the affected imports into a fresh database")
                throw ExitCode.failure
            }
        }
    }

    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a consistent copy of the database to PATH while imports and the server keep running.",
            discussion: "Uses SQLite's online backup API. Restore by stopping Vigil and copying PATH over the database (remove its -wal and -shm files). On PostgreSQL it runs pg_dump, the backup there (restore with pg_restore).")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Where to write the backup; it must not exist yet.") var path: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: path) else {
                throw CLIError("\(path) already exists; choose a new file name so no backup is overwritten")
            }
            if let url = try store.postgresURL() {
                try dumpPostgres(url)
                return
            }
            do {
                try store.open().backup(to: path)
            } catch let error as StoreError {
                throw CLIError(error.description)
            }
            let copy = try StoreOptions(db: path).open().check()
            guard copy.isHealthy else { throw CLIError("the backup at \(path) failed its check: \(copy.problems.joined(separator: "; "))") }
            print("backed up \(copy.events) events and \(copy.alerts) alerts to \(path)")
        }

        /// On PostgreSQL the backup is PostgreSQL's own: `pg_dump` in its custom format, a
        /// consistent snapshot taken while the nodes keep writing.
        private func dumpPostgres(_ url: PostgresURL) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["pg_dump", "--format=custom", "--file=\(path)", "--host=\(url.host)", "--port=\(url.port)",
                                 "--username=\(url.user)", "--no-password", url.database]
            var environment = ProcessInfo.processInfo.environment
            if let password = url.password { environment["PGPASSWORD"] = password }
            process.environment = environment
            do { try process.run() } catch { throw CLIError("cannot run pg_dump (\(error)); install PostgreSQL's client programs (Debian: postgresql-client)") }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CLIError("pg_dump failed (exit \(process.terminationStatus)); its message is above, and \(path) is not a backup")
            }
            print("backed up \(url) with pg_dump to \(path); restore with `pg_restore --dbname=<empty database> \(path)`, then `vigil check --store` on it")
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete old events in small transactions; alerts, and the events they cite, stay.",
            discussion: "Queries and imports keep working while it runs. The purge is recorded in the audit log.")

        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("events-older-than"), help: "Age of the events to delete, by event time: 90d, 12w, 720h, or a time such as 2026-01-01T00:00:00Z.") var age: String
        @Flag(name: .customLong("include-alert-evidence"), help: "Also delete old events that alerts cite (the alerts stay, without those events).") var includeEvidence = false

        func validate() throws {
            guard Timestamp(absoluteOrRelative: age) != nil else {
                throw ValidationError("--events-older-than takes a span such as 90d, 12w or 720h, or an ISO 8601 time, not '\(age)'")
            }
        }

        func run() throws {
            let cutoff = Timestamp(absoluteOrRelative: age)!
            let outcome: PurgeOutcome
            if let url = try store.postgresURL() {
                do {
                    outcome = try store.openPostgres(url).purgeEvents(olderThan: cutoff, includingAlertEvidence: includeEvidence, actor: currentActor)
                } catch let error as StoreError { throw CLIError(error.description) }
            } else {
                outcome = try store.open().purgeEvents(olderThan: cutoff, includingAlertEvidence: includeEvidence, actor: currentActor)
            }
            let dropped = outcome.partitionsDropped > 0 ? " (\(outcome.partitionsDropped) whole days dropped)" : ""
            print("deleted \(outcome.eventsDeleted) events older than \(cutoff.iso8601)\(dropped) in \(outcome.transactions) transactions; kept \(outcome.evidenceKept) that alerts cite; deleted \(outcome.outboxEntriesDeleted) delivered outbox entries")
        }
    }
}
