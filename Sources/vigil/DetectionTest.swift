import ArgumentParser
import Foundation
import VigilTooling
import VigilPipeline

extension Vigil {
    struct DetectionTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detection-test",
            abstract: "Write the EICAR test file so a machine's antivirus detects it and the detection flows into Vigil.")

        @Option(help: "Where to write the test file.")
        var output = "eicar.com.txt"

        func run() throws {
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
                  4. see the alert "EICAR test file detected":    vigil alerts --rule "EICAR test file detected"
                """)
        }
    }
}
