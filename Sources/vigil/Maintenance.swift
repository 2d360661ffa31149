import ArgumentParser
import Foundation
import VigilModel
import VigilStore

extension Vigil {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the database: SQLite integrity, foreign keys, and that imports, events, rejected records and alerts agree.",
            discussion: "Exits 0 when healthy, 1 with one line per problem otherwise.")

        @OptionGroup var store: StoreOptions

        func run() throws {
            let report = try store.open().check()
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
            discussion: "Uses SQLite's online backup API. Restore by stopping Vigil and copying PATH over the database (remove its -wal and -shm files).")

        @OptionGroup var store: StoreOptions
        @Argument(help: "Where to write the backup; it must not exist yet.") var path: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: path) else {
                throw CLIError("\(path) already exists; choose a new file name so no backup is overwritten")
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
            let outcome = try store.open().purgeEvents(olderThan: cutoff, includingAlertEvidence: includeEvidence, actor: currentActor)
            print("deleted \(outcome.eventsDeleted) events older than \(cutoff.iso8601) in \(outcome.transactions) transactions; kept \(outcome.evidenceKept) that alerts cite; deleted \(outcome.outboxEntriesDeleted) delivered outbox entries")
        }
    }
}
