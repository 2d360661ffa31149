import Foundation
import Testing
import VigilIngest
import VigilModel

@Suite struct SantaParserTests {
    /// The fields are reserved from the count of `|`, but never more than a bound: a line of a
    /// hundred thousand `|` around two pairs does not leave its event holding that many slots.
    @Test func separatorsDoNotSizeTheEvent() throws {
        let line = "[2022-05-12T11:38:03.923Z] I santad: action=EXEC|path=/bin/ls" + String(repeating: "|", count: 100_000)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-test-\(UUID().uuidString).log").path
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (events, rejected) = try parseFile(path, format: .santa)
        #expect(rejected.isEmpty)
        let event = try #require(events.first)
        #expect(event.fields.prefix(2).map(\.value) == ["EXEC", "/bin/ls"])
        // At most 32 pairs are reserved; the allocator may round a reservation up by a few slots.
        #expect(event.fields.capacity < 128)
    }
}
