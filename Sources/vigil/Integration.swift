import ArgumentParser
import Foundation
import VigilPipeline
import VigilIngest
import VigilModel
import VigilStore

extension Vigil {
    struct IntegrationCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "integration",
            abstract: "Third-party integrations: list, add, turn on or off, and manage their push tokens.",
            subcommands: [List.self, Add.self, On.self, Off.self, Token.self, Tokens.self, Revoke.self])

        /// Tokens live 7 days unless asked otherwise, and never longer than 90.
        static let defaultValidity: Int64 = 7 * 86_400
        static let maximumValidity: Int64 = 90 * 86_400

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List integrations with their state and traffic.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                emit(try render(try store.openIntegrations().integrations(), as: output.format))
            }
        }

        struct On: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Turn an integration on, so its data is accepted.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The integration's name.") var name: String

            func run() throws {
                do {
                    try store.openIntegrations(creating: true).setIntegration(name, enabled: true, actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("integration \(name) is on")
            }
        }

        struct Off: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Turn an integration off: its data is refused and its tokens are revoked. Stored data stays queryable.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The integration's name.") var name: String

            func run() throws {
                do {
                    try store.openIntegrations().setIntegration(name, enabled: false, actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("integration \(name) is off; its tokens are revoked")
            }
        }
    
        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a custom integration (it starts off).")
            @OptionGroup var store: StoreOptions
            @Argument(help: "Its name (letters, digits, - and _).") var name: String
            @Option(parsing: .upToNextOption, help: "Platforms it covers: linux, macos, ios, android.") var platforms: [String]
            @Option(parsing: .upToNextOption, help: "Formats it sends (see `vigil import --help`).") var formats: [String]
            @Option(help: "A readable name.") var displayName: String?

            func validate() throws {
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    throw ValidationError("the name may hold only letters, digits, - and _")
                }
                let platformList = platforms.flatMap { $0.split(separator: ",").map(String.init) }
                for platform in platformList where !["linux", "macos", "ios", "android"].contains(platform) {
                    throw ValidationError("unknown platform '\(platform)'; use linux, macos, ios or android")
                }
                for format in formats.flatMap({ $0.split(separator: ",") }) where SourceFormat(rawValue: String(format)) == nil {
                    throw ValidationError("unknown format '\(format)'; use \(SourceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if platformList.isEmpty || formats.isEmpty { throw ValidationError("name at least one platform and one format") }
            }

            func run() throws {
                let definition = IntegrationDefinition(
                    name: name, displayName: displayName ?? name,
                    platforms: platforms.flatMap { $0.split(separator: ",").map(String.init) },
                    formats: formats.flatMap { $0.split(separator: ",").map(String.init) })
                do {
                    try store.openIntegrations(creating: true).addIntegration(definition, actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("integration \(name) added (off); turn it on with `vigil integration on \(name)`")
            }
        }

        struct Token: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Generate a push token: printed once, alone on stdout; details go to stderr.",
                discussion: "Generate it close to when you share it: it expires. Only its hash is stored.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The integration's name.") var name: String
            @Option(name: .customLong("valid-for"), help: "How long it is valid: 30m, 12h, 7d (at most 90d).") var validFor = "7d"
            @Option(help: "Bind it to these host-name patterns, comma-separated ('web-*,db-0?'): its pushes may carry data only of matching machines.")
            var machines: String?

            func validate() throws {
                guard let seconds = DurationText.seconds(validFor), seconds > 0 else {
                    throw ValidationError("--valid-for '\(validFor)' is not a duration such as 30m, 12h or 7d")
                }
                if seconds > IntegrationCommand.maximumValidity {
                    throw ValidationError("--valid-for may be at most 90d: tokens are meant to be short-lived")
                }
            }

            func run() throws {
                let seconds = DurationText.seconds(validFor)!
                let (token, hash) = AccessToken.generate()
                let expires = Timestamp(microseconds: Timestamp.now().microseconds + seconds * 1_000_000)
                let id: Int64
                do {
                    let patterns = machines?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
                    id = try store.openIntegrations(creating: true).createToken(integration: name, hash: hash, expiresAt: expires, machines: patterns,
                                                                    actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print(token)
                writeStderr("token \(id) for \(name), valid until \(expires.iso8601). It is shown only now: paste it into the sensor's Vigil settings.")
            }
        }

        struct Tokens: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List an integration's tokens (never their secrets).")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The integration's name.") var name: String

            func run() throws {
                emit(try render(try store.openIntegrations().tokens(integration: name), as: output.format))
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke one token of an integration.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The integration's name.") var name: String
            @Argument(help: "The token id (see `vigil integration tokens NAME`).") var tokenID: Int64

            func run() throws {
                do {
                    try store.openIntegrations().revokeToken(integration: name, id: tokenID, actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("token \(tokenID) of \(name) is revoked")
            }
        }
    }
}
