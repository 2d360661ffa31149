import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
import VigilTooling

/// A webhook receiver on a loopback port, as a SIEM or chat service would run one: it records
/// every POST and answers as `answer` says for the request's number (1 for the first). It
/// deduplicates on X-Vigil-Event-Id: `accepted` counts each event id it answered 200 for once.
final class WebhookReceiver: @unchecked Sendable {
    enum Answer: Sendable {
        case ok
        case fail(HTTPResponse.Status)
        /// Never answer (the sender times out or dies waiting).
        case stall
    }

    struct Request: Sendable {
        var eventID: String
        var eventType: String
        var signature: String
        var body: [UInt8]
    }

    // Safety: every var is touched under `lock`.
    private let lock = NSLock()
    private var requests: [Request] = []
    private var acceptedIDs: [String] = []
    private var answer: @Sendable (Int) -> Answer
    private(set) var port = 0
    private var task: Task<Void, any Error>?

    private init(answer: @escaping @Sendable (Int) -> Answer) {
        self.answer = answer
    }

    static func start(answer: @escaping @Sendable (Int) -> Answer = { _ in .ok }) async throws -> WebhookReceiver {
        let receiver = WebhookReceiver(answer: answer)
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            var request = request
            let body = Array(buffer: try await request.collectBody(upTo: 1 << 20))
            let received = Request(eventID: request.headers[HTTPField.Name("X-Vigil-Event-Id")!] ?? "",
                                   eventType: request.headers[HTTPField.Name("X-Vigil-Event-Type")!] ?? "",
                                   signature: request.headers[HTTPField.Name("X-Vigil-Signature")!] ?? "", body: body)
            switch receiver.record(received) {
            case .ok: return Response(status: .ok)
            case .fail(let status): return Response(status: status)
            case .stall:
                try await Task.sleep(for: .seconds(3600))
                return Response(status: .ok)
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) })
        receiver.task = Task { try await app.runService(gracefulShutdownSignals: []) }
        for await port in ports {
            receiver.port = port
            break
        }
        return receiver
    }

    private func record(_ request: Request) -> Answer {
        lock.withLock {
            requests.append(request)
            let answer = answer(requests.count)
            if case .ok = answer, !acceptedIDs.contains(request.eventID) { acceptedIDs.append(request.eventID) }
            return answer
        }
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var received: [Request] { lock.withLock { requests } }
    /// Event ids answered 200, each once, in the order first accepted.
    var accepted: [String] { lock.withLock { acceptedIDs } }

    func answer(with answer: @escaping @Sendable (Int) -> Answer) { lock.withLock { self.answer = answer } }

    func stop() { task?.cancel() }
}

/// syslog-ng from Debian's packages, listening on a loopback TCP port (optionally TLS) for
/// RFC 5424 messages framed with octet counting, and writing each message's text to a file.
final class SyslogNG {
    let directory: TemporaryDirectory
    let port: Int
    let output: URL
    private var process: Process?

    init(in directory: TemporaryDirectory, tls: (key: String, certificate: String)? = nil) throws {
        guard let binary = Self.binary else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "syslog-ng is not installed: apt-get install syslog-ng-core (.ci/run does)"])
        }
        _ = binary
        self.directory = directory
        port = Int.random(in: 61_000...64_999)  // above Linux's ephemeral range (32768-60999), where outgoing connections take ports
        output = directory.url.appendingPathComponent("received.log")
        let transport = tls.map { #"transport("tls") tls(key-file("\#($0.key)") cert-file("\#($0.certificate)") peer-verify(optional-untrusted))"# }
            ?? #"transport("tcp")"#
        try directory.write("syslog-ng.conf", """
            @version: 3.38
            options { keep-hostname(yes); };
            source s_vigil { syslog(ip("127.0.0.1") port(\(port)) \(transport) max-connections(100)); };
            destination d_file { file("\(output.path)" template("$SDATA $MSG\\n") flush-lines(1)); };
            log { source(s_vigil); destination(d_file); };
            """)
    }

    static var binary: String? {
        ["/usr/sbin/syslog-ng", "/usr/bin/syslog-ng"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts it and waits until it accepts connections.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary ?? "/usr/sbin/syslog-ng")
        let folder = directory.url.path
        process.arguments = ["-F", "--no-caps", "-f", "\(folder)/syslog-ng.conf", "-R", "\(folder)/persist", "-p", "\(folder)/pid",
                             "-c", "\(folder)/ctl"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: directory.url.appendingPathComponent("stderr").creatingEmpty())
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if Self.accepts(port: port) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "syslog-ng did not listen on \(port): \((try? String(contentsOf: directory.url.appendingPathComponent("stderr"), encoding: .utf8)) ?? "")"])
    }

    /// Stops it the way a service manager restarts it: `syslog-ng-ctl stop` (it inherits the
    /// test runner's blocked signals, so SIGTERM would stay pending), SIGKILL after 10 s.
    func stop() {
        guard let process, process.isRunning else { return }
        let control = Process()
        control.executableURL = URL(fileURLWithPath: "/usr/sbin/syslog-ng-ctl")
        control.arguments = ["stop", "--control=\(directory.url.path)/ctl"]
        control.standardOutput = FileHandle.nullDevice
        control.standardError = FileHandle.nullDevice
        try? control.run()
        control.waitUntilExit()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
    }

    /// The lines written so far.
    var lines: [String] {
        ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func accepts(port: Int) -> Bool { (try? RawConnection(port: port)) != nil }
}

extension URL {
    /// Creates an empty file here (truncating one) and returns the URL.
    func creatingEmpty() throws -> URL {
        try Data().write(to: self)
        return self
    }
}
