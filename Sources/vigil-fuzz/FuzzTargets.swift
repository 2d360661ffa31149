import Foundation
import VigilDetection
import VigilIngest
import VigilModel

/// The coverage-guided fuzz targets: every parser, the time readers, the JSON scanner and the
/// rule loader, each fed arbitrary bytes. A target must return for any input: a trap, a hang
/// or an out-of-memory is the bug the fuzzer reports.
enum FuzzTarget: String, CaseIterable {
    case auditd, sysmonLinux = "sysmon-linux", santa, eslogger, jamfProtect = "jamf-protect", unifiedLog = "unified-log",
         osquery, clamav, cef, mobileThreatDefense = "mobile-threat-defense", syslog, json
    /// Timestamp parsing, typed durations and relative times, and the time fields of CEF,
    /// ClamAV and syslog records.
    case times
    /// One JSON record through the scanner and flattener, unframed.
    case jsonScanner = "json-scanner"
    /// The Sigma rule loader and compiler, on one YAML file.
    case rules
    /// Format detection over the first lines.
    case detect

    /// Runs the target on one input.
    func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        switch self {
        case .times: Self.times(String(decoding: bytes, as: UTF8.self))
        case .jsonScanner: Self.parse(.json, records: [String(decoding: bytes, as: UTF8.self)])
        case .rules: Self.loadRules(bytes)
        case .detect: _ = SourceFormat.detect(sample: String(decoding: bytes, as: UTF8.self).split(separator: "\n").prefix(50).map(String.init))
        default: Self.frameAndParse(SourceFormat(rawValue: rawValue)!, bytes)
        }
    }

    /// Frames `bytes` as a file of `format` and parses every record, then the end of input.
    static func frameAndParse(_ format: SourceFormat, _ bytes: [UInt8]) {
        guard let source = try? ByteSource(bytes: bytes, name: "fuzz") else { return }
        let framer = RecordFramer(source: source)
        var parser = format.makeParser(context: ParserContext(integration: "fuzz", defaultHostname: "fuzz-host"))
        var items: [RecordFramer.Item] = []
        var events: [Event] = []
        var more = true
        while more {
            items.removeAll(keepingCapacity: true)
            guard let next = try? framer.next(into: &items, limit: 256) else { return }
            more = next
            for case .record(let record) in items { _ = parser.parse(record, into: &events) }
        }
        parser.finish(into: &events)
        for event in events { _ = EventKey(event).storageKey(probe: 0); _ = event.time.iso8601 }
    }

    static func parse(_ format: SourceFormat, records: [String]) {
        var parser = format.makeParser(context: ParserContext(integration: "fuzz"))
        var events: [Event] = []
        for (index, text) in records.enumerated() { _ = parser.parse(RawRecord(line: index + 1, text: text), into: &events) }
        parser.finish(into: &events)
    }

    static func times(_ text: String) {
        _ = Timestamp(parsing: text)?.iso8601
        _ = Timestamp(absoluteOrRelative: text)?.iso8601
        if let seconds = DurationText.seconds(text) { _ = (Timestamp.now() + .seconds(seconds)).iso8601 }
        parse(.cef, records: ["CEF:0|Fuzz|AV|1.0|1|Found|8|rt=\(text) dhost=h"])
        parse(.clamav, records: ["/tmp/x: Eicar FOUND", "Start Date: \(text)"])
        parse(.clamav, records: ["\(text) -> /tmp/x: Eicar FOUND"])
        parse(.syslog, records: ["\(text) host sshd[1]: Failed password for root"])
        parse(.santa, records: ["[\(text)] I santad: action=EXEC|decision=ALLOW|path=/bin/ls"])
        parse(.auditd, records: ["type=SYSCALL msg=audit(\(text):1): syscall=59"])
    }

    static func loadRules(_ bytes: [UInt8]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-fuzz-\(getpid()).yml").path
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = RuleSet.load(paths: [path])
        var detector = Detector(ruleSet: loaded.ruleSet)
        var detections: [Detection] = []
        let event = Event(time: Timestamp(microseconds: 0), machine: MachineIdentity(hostname: "h"), sourceFormat: "json", integration: "fuzz",
                          logSource: LogSource(product: "linux", category: "process_creation"),
                          fields: [EventField(FieldKey("CommandLine"), "bash -i"), EventField(FieldKey("Image"), "/bin/bash")], raw: "{}", line: 1)
        detector.detect(event, into: &detections)
    }
}
