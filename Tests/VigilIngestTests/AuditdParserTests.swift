import Foundation
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel

func parseAuditd(_ text: String) throws -> (events: [Event], rejected: [RejectedRecord]) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-auditd-\(UUID().uuidString).log").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try parseFile(path, format: .auditd)
}

@Suite(.runsOn(.busy)) struct AuditdParserTests {
    @Test func everyRecordIsAnAuditdEventWithItsKeys() throws {
        let line = #"node=web-01 type=USER_CMD msg=audit(1604996384.965:93777): pid=1 uid=0 msg='cwd="/root" cmd=6C73202D6C61 terminal=pts/0 res=success' comm="my prog""#
        let (events, rejected) = try parseAuditd(line + "\n")
        #expect(rejected.isEmpty)
        let event = try #require(events.first)
        #expect(events.count == 1)
        #expect(event.logSource == LogSource(product: "linux", service: "auditd"))
        #expect(event.machine.hostname == "web-01")
        #expect(event.time == Timestamp(microseconds: 1_604_996_384_965_000))
        #expect(event.value(of: FieldKey("type")) == "USER_CMD")
        #expect(event.value(of: FieldKey("cmd")) == "ls -la")
        #expect(event.value(of: FieldKey("cwd")) == "/root")
        #expect(event.value(of: FieldKey("res")) == "success")
        #expect(event.value(of: FieldKey("comm")) == "my prog")
    }

    @Test func enrichedFieldsAfterTheSeparatorAreKept() throws {
        let line = "type=SYSCALL msg=audit(1.0:5): arch=c000003e syscall=59 uid=0 exe=\"/bin/ls\"\u{1D}ARCH=x86_64 SYSCALL=execve UID=\"root\""
        let (events, _) = try parseAuditd(line + "\n")
        #expect(events.first?.value(of: FieldKey("SYSCALL")) == "execve")
        #expect(events.first?.value(of: FieldKey("UID")) == "root")
        #expect(events.first?.value(of: FieldKey("syscall")) == "59")
    }

    @Test func interleavedGroupsYieldProcessCreationEvents() throws {
        let input = """
            type=SYSCALL msg=audit(100.000:1): syscall=59 success=yes ppid=10 pid=11 uid=1000 comm="curl" exe="/usr/bin/curl"\u{1D}UID="alice"
            type=SYSCALL msg=audit(100.001:2): syscall=59 success=yes ppid=20 pid=21 uid=0 comm="sh" exe="/bin/sh"
            type=EXECVE msg=audit(100.000:1): argc=3 a0="curl" a1="-o" a2=2F746D702F612062
            type=EXECVE msg=audit(100.001:2): argc=2 a0="sh" a1="-c"
            type=CWD msg=audit(100.000:1): cwd="/home/alice"
            type=PROCTITLE msg=audit(100.000:1): proctitle=6375726C002D6F
            type=EOE msg=audit(100.000:1):
            type=SYSCALL msg=audit(100.002:3): syscall=2 success=yes ppid=1 pid=2 uid=0 exe="/bin/cat"
            """
        let (events, rejected) = try parseAuditd(input + "\n")
        #expect(rejected.isEmpty)
        #expect(events.filter { $0.logSource.service == "auditd" }.count == 8)
        #expect(events.first { $0.value(of: FieldKey("type")) == "PROCTITLE" }?.value(of: FieldKey("proctitle")) == "curl -o")
        let processes = events.filter { $0.logSource.category == "process_creation" }
        #expect(processes.count == 2)
        let curl = try #require(processes.first { $0.value(of: FieldKey("Image")) == "/usr/bin/curl" })
        #expect(curl.value(of: FieldKey("CommandLine")) == "curl -o /tmp/a b")
        #expect(curl.value(of: FieldKey("CurrentDirectory")) == "/home/alice")
        #expect(curl.value(of: FieldKey("User")) == "alice")
        #expect(curl.value(of: FieldKey("ProcessId")) == "11")
        #expect(curl.value(of: FieldKey("ParentProcessId")) == "10")
        #expect(curl.line == 1)
        #expect(curl.raw.split(separator: "\n").count == 5)
        let shell = try #require(processes.first { $0.value(of: FieldKey("Image")) == "/bin/sh" })
        #expect(shell.value(of: FieldKey("CommandLine")) == "sh -c")
    }

    /// Most auditd logs have no EOE records: a group then closes once more than 256 newer groups
    /// are open, oldest first. A record that comes after its group closed opens a new one; an
    /// EOE record closes its group at once, wherever it stands.
    @Test func groupsCloseOldestFirstWithoutEndOfEventRecords() throws {
        var lines: [String] = []
        for serial in 1...1_000 {
            lines.append("type=SYSCALL msg=audit(100.000:\(serial)): syscall=59 pid=\(serial) ppid=1 exe=\"/bin/p\(serial)\"")
            lines.append("type=EXECVE msg=audit(100.000:\(serial)): argc=1 a0=\"p\(serial)\"")
            if serial == 300 {
                lines.append("type=CWD msg=audit(100.000:290): cwd=\"/late\"")
                lines.append("type=EXECVE msg=audit(100.000:1): argc=1 a0=\"late\"")
            }
            if serial == 700 { lines.append("type=EOE msg=audit(100.000:600):") }
        }
        let (events, rejected) = try parseAuditd(lines.joined(separator: "\n") + "\n")
        #expect(rejected.isEmpty)
        let processes = events.filter { $0.logSource.category == "process_creation" }
        #expect(processes.count == 1_001)
        let late = try #require(processes.first { $0.value(of: FieldKey("CommandLine")) == "late" })
        #expect(late.value(of: FieldKey("Image")) == nil, "group 1 had closed: the late record opened a group of its own")
        let ids = processes.compactMap { $0.value(of: FieldKey("ProcessId")).flatMap { Int($0) } }
        #expect(ids.sorted() == Array(1...1_000))
        #expect(ids.filter { $0 != 600 } == Array(1...1_000).filter { $0 != 600 }, "groups close in the order they opened")
        let endOfEvent = try #require(events.firstIndex { $0.value(of: FieldKey("type")) == "EOE" })
        #expect(events[endOfEvent + 1].value(of: FieldKey("ProcessId")) == "600", "the EOE record closed group 600 at once")
        let stillOpen = try #require(processes.first { $0.value(of: FieldKey("ProcessId")) == "290" })
        #expect(stillOpen.value(of: FieldKey("CurrentDirectory")) == "/late")
        // Group 290 holds its late CWD record and group 600 its EOE record; the late group holds one.
        let recordsPerGroup = processes.map { ($0.value(of: FieldKey("ProcessId")) ?? "late", $0.raw.split(separator: "\n").count) }
        #expect(recordsPerGroup.filter { $0.1 != 2 }.map { "\($0.0):\($0.1)" } == ["290:3", "late:1", "600:3"])
    }

    /// A stamp's time read as integers is the time `Double` reads, to the microsecond, wherever
    /// the integer path applies; every other text goes through `Double` itself.
    @Test func stampTimesReadAsIntegersMatchTheFloatingPointReading() {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0", "0.000001", "4294967295.999999", "4294967296.5", "1604996384.123", "1604996384.", ".5", "",
                     "+1.5", "-1.5", "1e3", "12345678901", "00001604996384.1", "1.1234567", "1.12x", "9999999999.999999", "inf", "nan"]
        for _ in 0..<20_000 {
            let seconds = UInt64.random(in: 0..<(1 << 33), using: &generator)
            let digits = Int.random(in: 0...7, using: &generator)
            let fraction = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
            texts.append(digits == 0 ? "\(seconds)" : "\(seconds).\(fraction)")
        }
        for text in texts {
            let read = Array(text.utf8).withUnsafeBufferPointer { AuditdParser.stampTime($0) }
            #expect(read == Double(text).flatMap(Timestamp.init(checkedSeconds:)), "\(text)")
        }
    }

    @Test func garbageIsRejectedAndTheRestLands() throws {
        let (events, rejected) = try parseAuditd("type=EOE msg=audit(1.0:1):\nhello world\ntype=EOE msg=audit(1.0:2):\n")
        #expect(events.count == 2)
        #expect(rejected.map(\.line) == [2])
    }
}

@Suite(.runsOn(.busy)) struct CEFTimeTests {
    @Test(arguments: [
        ("Nov 27 2026 10:00:00", "2026-11-27T10:00:00.000Z"),
        ("Nov 27 2026 10:00:00.5", "2026-11-27T10:00:00.500Z"),
        ("Nov 27 2026 10:00:00.123", "2026-11-27T10:00:00.123Z"),
        ("Nov 27 2026 10:00:00.1234567891", "2026-11-27T10:00:00.123Z"),
        // Digits past the microsecond are precision, not a number to multiply.
        ("Nov 27 2026 10:00:00.9223372036854775807", "2026-11-27T10:00:00.922Z"),
        ("1764237600000", "2025-11-27T10:00:00.000Z"),
    ])
    func readableTimes(text: String, iso: String) throws {
        let (events, rejected) = try parseCEF("CEF:0|Acme|AV|1.0|100|Malware found|8|rt=\(text) dhost=h")
        #expect(rejected.isEmpty)
        #expect(events.first?.time.iso8601 == iso)
    }

    @Test(arguments: [
        "Nov 27 2026 10:00:00.", "Nov 27 2026 10:00:00.12a",
        "Nov 27 9223372036854775807 10:00:00", "Nov 27 2026 10:00", "Nov 27 2026 10:00:00:00", "Nov 27 2026 10::00",
    ])
    func craftedTimesAreNotRead(text: String) throws {
        let (events, _) = try parseCEF("CEF:0|Acme|AV|1.0|100|Malware found|8|rt=\(text) dhost=h")
        // Not read as the event's time: the year 2026 at 10:00:00 never appears from these.
        #expect(events.first?.time.iso8601.hasPrefix("2026-11-27T10:00:00") != true)
    }
}

func parseCEF(_ text: String) throws -> (events: [Event], rejected: [RejectedRecord]) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cef-\(UUID().uuidString).log").path
    try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try parseFile(path, format: .cef)

}

extension AuditdParserTests {
    /// Scanning records on several threads and assembling them in order gives what the serial
    /// parse gives: interleaved groups, unstamped records, junk lines, and records rejected by
    /// the framer and by the parser, in every slicing.
    @Test func scanningOnSeveralThreadsParsesAsTheSerialParserDoes() throws {
        var lines = ["type=UNKNOWN[1329] msg=? unstamped=first"]
        for group in 0..<40 {
            let serial = 500 + group, time = "1604996384.\(100 + group)"
            lines.append("node=h\(group % 3) type=SYSCALL msg=audit(\(time):\(serial)): pid=\(group) ppid=1 uid=0 exe=\"/bin/sh\"")
            if group % 5 == 0 { lines.append("this is not auditd") }
            lines.append("node=h\(group % 3) type=EXECVE msg=audit(\(time):\(serial)): argc=2 a0=\"sh\" a1=2D63")
            if group % 7 == 0 { lines.append("type=UNKNOWN[1329] msg=? after=stamped") }
            lines.append("node=h\(group % 3) type=CWD msg=audit(\(time):\(serial)): cwd=\"/tmp\"")
            if group % 2 == 1 { lines.append("node=h\(group % 3) type=EOE msg=audit(\(time):\(serial)): ") }
        }
        lines.append(String(repeating: "x", count: 2_000_000))
        let source = try ByteSource(bytes: Array(lines.joined(separator: "\n").utf8), name: "audit.log")
        let framer = RecordFramer(source: source)
        var items: [RecordFramer.Item] = []
        while try framer.next(into: &items, limit: 10_000) {}
        let context = ParserContext(integration: "auditd", defaultHostname: "default")
        func parse(slices: Int) -> (events: [String], rejected: [String]) {
            var parser = AuditdParser(context: context)
            var events: [Event] = [], rejected: [RejectedRecord] = []
            parser.parse(items, into: &events, rejected: &rejected, slices: slices) { count, body in
                DispatchQueue.concurrentPerform(iterations: count, execute: body)
            }
            parser.finish(into: &events)
            return (events.map { "\($0.line) \($0.time.microseconds) \($0.machine.hostname) \($0.logSource) \($0.fields.map { "\($0.key.name)=\($0.value)" }) \($0.raw)" },
                    rejected.map { "\($0.line) \($0.reason)" })
        }
        let serial = parse(slices: 1)
        #expect(serial.events.count > 100)
        #expect(serial.events.contains { $0.contains("process_creation") })
        #expect(serial.rejected.count >= 9, "junk lines, the unstamped first record and the oversized line")
        for slices in [2, 3, 7] {
            let parallel = parse(slices: slices)
            #expect(parallel.events == serial.events, "\(slices) slices")
            #expect(parallel.rejected == serial.rejected, "\(slices) slices")
        }
    }
}
