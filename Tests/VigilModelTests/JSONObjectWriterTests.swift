import Foundation
import Testing
import VigilModel

/// `JSONObjectWriter` stands in for `JSONEncoder.vigil` where rows are written by the million
/// (hunt matches); what it writes must be what the encoder writes, byte for byte.
@Suite struct JSONObjectWriterTests {
    struct Row: Encodable {
        var author: String
        var line: Int
        var matched_fields: RawJSON
        var tags: [String]
        var title: String
    }

    static let texts = [
        "plain", "", #"quote " and back\slash"#, "line\nbreak\ttab\rreturn", "/usr/bin/curl http://x/",
        "é ☃ 😀", "nul \u{0} unit \u{1F} del \u{7F}", "\u{2028}\u{2029}",
    ]

    @Test(arguments: texts)
    func writesWhatTheEncoderWrites(_ text: String) throws {
        let fields = [EventField(FieldKey("b"), text), EventField(FieldKey("a"), "x"), EventField(FieldKey("b"), "2")]
        let row = Row(author: text, line: -42, matched_fields: RawJSON({ var json = FieldsJSONWriter(); return json.sortedObject(fields) }()),
                      tags: [text, "attack.t1059"], title: text)
        var writer = JSONObjectWriter()
        writer.member("author", row.author)
        writer.member("line", row.line)
        writer.member("matched_fields", row.matched_fields)
        writer.member("tags", row.tags)
        writer.member("title", row.title)
        let written = writer.finish()
        #expect(written == String(decoding: try JSONEncoder.vigil.encode(row), as: UTF8.self))
        #expect(written.contains(#""matched_fields":{"a":"x","b":["#), "members sorted, a repeated name's values in field order")
    }

    @Test func writesAnEmptyObject() {
        #expect(JSONObjectWriter().finish() == "{}")
    }
}

/// `JSONText.object` writes every stored event's fields into a buffer sized to a bound, so the
/// bound must hold for every kind of value (escapes, repeats, nulls, non-ASCII).
@Suite struct JSONTextObjectTests {
    @Test func writesEveryKindOfField() {
        let fields = [
            EventField(FieldKey("Image"), "/usr/bin/curl"), EventField(FieldKey("arg"), "-s"), EventField(FieldKey("note"), "tab\there \"q\" \\ é\u{1}"),
            EventField(FieldKey("arg"), "http://x/"), EventField(FieldKey("gone"), EventField.nullValue), EventField(FieldKey("é"), ""),
        ]
        #expect(JSONText.object(fields: fields)
            == #"{"Image":"/usr/bin/curl","arg":["-s","http://x/"],"note":"tab\there \"q\" \\ é\u0001","gone":null,"é":""}"#)
        #expect(JSONText.object(fields: []) == "{}")
    }

    /// Each import worker keeps one writer for all its events: its quoted names and its buffer
    /// carry over from object to object, from small to past the buffer's limit and back, and
    /// each object must come out as a fresh writer writes it.
    @Test func aKeptWriterWritesEachObjectAsAFreshOneWould() {
        let large = String(repeating: "\"x\u{1}é", count: 300_000)
        let objects: [[EventField]] = [
            [EventField(FieldKey("a"), "1")],
            [EventField(FieldKey("big"), large), EventField(FieldKey("a"), "2")],
            [EventField(FieldKey("a"), "3"), EventField(FieldKey("quo\"te"), "v"), EventField(FieldKey("a"), EventField.nullValue)],
            [],
            [EventField(FieldKey("b"), "tab\t")],
        ]
        var kept = FieldsJSONWriter()
        for fields in objects + objects.reversed() + objects {
            #expect(kept.object(fields) == JSONText.object(fields: fields))
        }
        #expect(kept.object(objects[1]) == #"{"big":"# + JSONText.quoted(large) + #","a":"2"}"#)
        #expect(kept.object(objects[2]) == #"{"a":["3",null],"quo\"te":"v"}"#)
    }

    /// Repeats are found by a bitmap of small key ids, and by comparison past it: random field
    /// lists over both kinds of keys must read as the plain definition says (each name once,
    /// at its first field; a repeated name's values as an array, in field order).
    @Test func repeatsAreFoundForSmallAndLargeKeyIDs() {
        // Enough names that the last ones are interned past the bitmap's 1,024 ids.
        let keys = (0..<1_100).map { FieldKey("json-text-key-\($0)") }
        let large = keys.filter { $0.rawValue >= 1_024 }, small = keys.filter { $0.rawValue < 1_024 }
        #expect(large.count >= 4)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let pool = Array(small.shuffled(using: &generator).prefix(3)) + Array(large.shuffled(using: &generator).prefix(3))
            let fields = (0..<Int.random(in: 0...12, using: &generator)).map { index in
                EventField(pool.randomElement(using: &generator)!, "v\(index)")
            }
            var expected = "{"
            for (index, field) in fields.enumerated() where !fields[..<index].contains(where: { $0.key == field.key }) {
                let values = fields.filter { $0.key == field.key }.map { "\"\($0.value)\"" }
                expected += (expected == "{" ? "" : ",") + "\"\(field.key.name)\":" + (values.count > 1 ? "[\(values.joined(separator: ","))]" : values[0])
            }
            expected += "}"
            #expect(JSONText.object(fields: fields) == expected)
        }
    }
}
