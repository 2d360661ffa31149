import ArgumentParser
import VigilPipeline
import VigilStore
import Foundation

extension Vigil {
    struct CompatibilityCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compatibility",
            abstract: "The supported OS versions per platform; machines outside it are flagged unsupported (their data is still ingested).",
            subcommands: [List.self, Add.self], defaultSubcommand: List.self)

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print the compatibility list.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                emit(try render(try store.openCompatibility().compatibility(), as: output.format))
            }
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a supported OS version.")
            @OptionGroup var store: StoreOptions
            @Option(help: "linux, macos, ios or android.") var platform: String
            @Option(help: "Linux only: the distribution (ubuntu, debian, rhel, …).") var distribution = ""
            @Option(help: "The version, matched as a prefix (22.04, 9, 17).") var version: String
            @Option(help: "A note.") var note = ""

            func validate() throws {
                guard ["linux", "macos", "ios", "android"].contains(platform) else { throw ValidationError("--platform must be linux, macos, ios or android") }
                if platform == "linux" && distribution.isEmpty { throw ValidationError("a Linux entry needs --distribution") }
                if platform != "linux" && !distribution.isEmpty { throw ValidationError("--distribution is for Linux entries only") }
            }

            func run() throws {
                try store.openCompatibility(creating: true).addCompatibility(CompatibilityRow(platform: platform, distribution: distribution, version: version, note: note),
                                                  actor: currentActor)
                print("added \(platform) \(distribution) \(version)".replacingOccurrences(of: "  ", with: " "))
            }
        }
    }
}
