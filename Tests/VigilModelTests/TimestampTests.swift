import Testing
import VigilModel

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-27T21:56:19Z", Int64(1_795_816_579_000_000)),
        ("2026-11-27T21:56:19.123Z", Int64(1_795_816_579_123_000)),
        ("2026-11-27 21:56:19", Int64(1_795_816_579_000_000)),
        ("2026-11-27T22:56:19+01:00", Int64(1_795_816_579_000_000)),
        ("2026-11-27T20:56:19.5-0100", Int64(1_795_816_579_500_000)),
        ("1795816579", Int64(1_795_816_579_000_000)),
        ("1795816579.25", Int64(1_795_816_579_250_000)),
        ("1795816579123", Int64(1_795_816_579_123_000)),
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("1969-12-31T23:59:59Z", Int64(-1_000_000)),
    ])
    func parses(text: String, microseconds: Int64) {
        #expect(Timestamp(parsing: text)?.microseconds == microseconds)
    }

    @Test(arguments: ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-27T25:00:00Z", "2026-11-27T21:56:19Zjunk", "12ab"])
    func rejects(text: String) {
        #expect(Timestamp(parsing: text) == nil)
    }

    @Test func formatsRoundTrip() {
        for micros: Int64 in [0, 1_795_816_579_123_000, 951_782_400_000_000, -86_400_000_000, 4_102_444_800_000_000] {
            let time = Timestamp(microseconds: micros)
            #expect(Timestamp(parsing: time.iso8601) == time)
        }
        #expect(Timestamp(microseconds: 951_782_400_000_000).iso8601 == "2000-02-29T00:00:00.000Z")
    }

    /// The year is the one `iso8601` writes, on both sides of a new year and of the epoch.
    @Test(arguments: ["1999-12-31T23:59:59.999Z", "2000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-12-03T10:00:00Z"])
    func yearIsTheOneWritten(text: String) throws {
        let time = try #require(Timestamp(parsing: text))
        #expect(time.year == Int(text.prefix(4)))
        #expect(time.iso8601.hasPrefix(String(time.year)))
    }
}

@Suite struct PlatformTests {
    @Test(arguments: [
        ("Darwin", OSPlatform.macos), ("macOS", .macos), ("ubuntu", .linux), ("Linux", .linux), ("iPadOS", .ios),
        ("iOS", .ios), ("Android", .android), ("Windows", .windows), ("plan9", .unknown),
    ])
    func mapsReportedNames(reported: String, platform: OSPlatform) {
        #expect(OSPlatform(reported: reported) == platform)
    }

    @Test func attackTechniquesComeFromTags() {
        let rule = RuleInfo(id: "x", title: "x", severity: .high, tags: ["attack.t1059.004", "attack.execution", "attack.T1105", "cve.2021-1"])
        #expect(rule.attackTechniques == ["T1059.004", "T1105"])
    }
}

@Suite struct JSONTextTests {
    @Test func escapes() {
        #expect(JSONText.quoted("a\"b\\c\nd\u{01}é") == #""a\"b\\c\nd\u0001é""#)
    }

    @Test func repeatedFieldsBecomeArrays() {
        let a = FieldKey("a"), b = FieldKey("b")
        let text = JSONText.object(fields: [EventField(a, "1"), EventField(b, "x"), EventField(a, "2")])
        #expect(text == #"{"a":["1","2"],"b":"x"}"#)
    }
}

/// Untrusted numbers in times and durations give nil or a bound, never an overflow trap.
@Suite struct TimeArithmeticTests {
    @Test func calendarPartsOutOfRangeAreRefused() {
        #expect(Timestamp(year: 2026, month: 11, day: 27, microsecond: 999_999) != nil)
        #expect(Timestamp(year: 2026, month: 11, day: 27, microsecond: 1_000_000) == nil)
        #expect(Timestamp(year: 2026, month: 11, day: 27, microsecond: .max) == nil)
        #expect(Timestamp(year: 2026, month: 11, day: 27, microsecond: -1) == nil)
        #expect(Timestamp(year: .max, month: 1, day: 1) == nil)
        #expect(Timestamp(year: 2026, month: 1, day: .min) == nil)
    }

    @Test(arguments: [
        "2026-11-27T10:00:00.9223372036854775807Z", "2026-11-27T10:00:00.123+99:99", "99999999999999999999",
        "9223372036854775807", "-9223372036854775808", "1.9223372036854775807", "9999999999999999.99999999999",
    ])
    func craftedTimesParseOrNotButNeverTrap(text: String) {
        _ = Timestamp(parsing: text)?.iso8601
    }

    @Test func durationsAndTimeArithmeticSaturate() {
        #expect(Duration.seconds(Int64.max).microseconds == .max)
        #expect(Duration.seconds(Int64.min).microseconds == .min)
        #expect(Duration.seconds(90).microseconds == 90_000_000)
        #expect((Timestamp(microseconds: .max - 1) + .seconds(10)).microseconds == .max)
        #expect((Timestamp(microseconds: .min + 1) - .seconds(10)).microseconds == .min)
        #expect((Timestamp(microseconds: 5) - .seconds(-1)).microseconds == 1_000_005)
        #expect(DurationText.seconds("10000000000000000d") == nil)
        #expect(DurationText.seconds("9007199254740992") == nil)
        #expect(DurationText.seconds("500000w") != nil)
    }
}
