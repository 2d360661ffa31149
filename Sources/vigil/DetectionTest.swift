import ArgumentParser
import Foundation
import VigilModel
import VigilStore
import VigilTooling
import VigilPipeline

extension Vigil {
    struct DetectionTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detection-test",
            abstract: "Write the EICAR test file so a machine's antivirus detects it; with --verify, wait for the EICAR alert.",
            discussion: """
                Without --verify: writes the harmless EICAR file and prints the steps that bring its detection into Vigil.
                With --verify: waits until an EICAR alert has evidence that arrived since --since (from --machine, or any
                machine), then prints it and exits 0; exits 1 when --timeout passes first. The web console's
                Detection test page waits for the same alert.
                """)

        @OptionGroup var store: StoreOptions

        @Option(help: "Where to write the test file.")
        var output = "eicar.com.txt"

        @Flag(help: "Wait for the EICAR alert instead of writing the file.")
        var verify = false

        @Option(help: "With --verify: only an alert from this machine (host name) counts.")
        var machine: String?

        @Option(help: "With --verify: give up after this long (30s, 10m, 1h).")
        var timeout = DurationArgument(seconds: 600)

        @Option(help: "With --verify: evidence that arrived since then counts (ISO 8601, or 30m, 24h before now).")
        var since = "1h"

        func run() throws {
            if verify { try waitForAlert() } else { try writeTestFile() }
        }

        private func writeTestFile() throws {
            print(DemoData.eicar)
            guard FileManager.default.createFile(atPath: output, contents: Data(DemoData.eicar.utf8)) else {
                throw CLIError("cannot write \(output); pick a writable path with --output")
            }
            writeStderr("""
                wrote the EICAR test file to \(output) (68 bytes; harmless, every antivirus detects it).
                next:
                  1. make sure the antivirus integration is on:   vigil integration on clamav
                  2. let the antivirus scan it, e.g.             clamscan \(output) --log=clamav.log
                  3. import the antivirus log:                    vigil import --integration clamav --format clamav clamav.log
                  4. wait for the alert "EICAR test file detected": vigil detection-test --verify
                """)
        }

        private func waitForAlert() throws {
            let start = try parseTimeArgument(since, option: "--since")
            let database = try store.openAlerts()
            let deadline = Date().addingTimeInterval(TimeInterval(timeout.seconds))
            let place = machine.map { "from \($0)" } ?? "from any machine"
            writeStderr("waiting up to \(timeout) for the EICAR alert \(place), with evidence since \(start.iso8601)…")
            while true {
                let found: AlertRow?
                do { found = try database.detectionTestAlert(since: start, machine: machine) } catch { throw CLIError("\(error)") }
                if let alert = found {
                    print("detection received: alert \(alert.id) \"\(alert.title.terminalSafe)\" on \(alert.hostname.terminalSafe) (\(alert.integration)), last event \(alert.lastEventTime.iso8601)")
                    return
                }
                if Date() >= deadline { break }
                Thread.sleep(forTimeInterval: min(1, max(0, deadline.timeIntervalSinceNow)))
            }
            writeStderr("""
                no EICAR alert \(place) arrived within \(timeout). Check that the antivirus integration is on
                (vigil integration list), that its log was imported or pushed (vigil imports), and what was refused (vigil rejected).
                """)
            throw ExitCode(1)
        }
    }
}
