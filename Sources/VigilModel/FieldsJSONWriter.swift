/// Writes events' fields as JSON objects (`JSONText.object(fields:)`), for code that writes
/// them by the thousand: each name is quoted once, when first met, and each object is written
/// in one pass into a buffer kept from object to object, then copied into its String.
///
/// Counting an object's bytes first and writing them straight into the String's storage, the
/// previous way, scanned every value for escapes twice and every name for escapes each time.
/// Not `Sendable`: give each thread its own.
///
/// Unsafe inside: objects up to `scratchLimit` are written through `UnsafeByteWriter` into the
/// scratch buffer, sized to a bound on what they can take; a write past it is caught by that
/// writer's debug-build assertions.
public struct FieldsJSONWriter {
    /// `"name":` of every key met so far, back to back; `spans` locates each, by key id.
    private var quotedNames: [UInt8] = []
    private var spans: [Range<Int>?] = []
    /// Where objects are written: it grows to the largest bound met, up to `scratchLimit`.
    private var scratch: [UInt8] = []
    /// The largest bound written into `scratch`. An object whose bound is larger (a record of
    /// megabytes) is written into an array grown as it needs, from its length unescaped: a
    /// buffer of six times that would let one hostile record take six times its memory.
    private static let scratchLimit = 1 << 20

    public init() {}

    /// `fields` as one JSON object; a name that repeats becomes an array of its values, at the
    /// name's first field.
    public mutating func object(_ fields: [EventField]) -> String {
        fields.withUnsafeBufferPointer { fields in
            // No byte escapes to more than six ("\u001f"); a field adds at most its quoted name,
            // a comma and, at a repeated name's first field, brackets.
            var bound = 2, unescaped = 2
            for index in fields.indices {
                let name = quotedName(of: fields[index].key).count, length = fields[index].value.utf8.count
                bound += name + 3 + max(4, 2 + 6 * length)
                unescaped += name + 3 + max(4, 2 + length)
            }
            let repeats = JSONText.hasRepeatedKeys(fields)
            let spans = spans
            guard bound <= Self.scratchLimit else {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(unescaped)
                quotedNames.withUnsafeBufferPointer { names in Self.write(fields, repeats: repeats, names: names, spans: spans, to: &bytes) }
                return String(decoding: bytes, as: UTF8.self)
            }
            if scratch.count < bound { scratch = [UInt8](repeating: 0, count: max(bound, min(2 * scratch.count, Self.scratchLimit))) }
            return quotedNames.withUnsafeBufferPointer { names in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    var writer = UnsafeByteWriter(scratch)
                    Self.write(fields, repeats: repeats, names: names, spans: spans, to: &writer)
                    let written = UnsafeBufferPointer(rebasing: scratch[..<writer.count])
                    return String(unsafeUninitializedCapacity: written.count) { storage in
                        _ = storage.initialize(fromContentsOf: written)
                        return written.count
                    }
                }
            }
        }
    }

    /// `object(_:)` with its members in key order (UTF-8 byte order, as `JSONEncoder.vigil`
    /// sorts keys); a repeated name's values keep their field order.
    public mutating func sortedObject(_ fields: [EventField]) -> String {
        let names = fields.map(\.key.name)
        let order = names.indices.sorted { names[$0] == names[$1] ? $0 < $1 : names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8) }
        return object(order.map { fields[$0] })
    }

    /// Where `"name":` of `key` is in `quotedNames`, quoting it if it is not there yet.
    private mutating func quotedName(of key: FieldKey) -> Range<Int> {
        let index = Int(key.rawValue)
        if index < spans.count, let span = spans[index] { return span }
        if index >= spans.count { spans += repeatElement(nil, count: index - spans.count + 1) }
        let start = quotedNames.count
        JSONText.appendQuoted(key.name, to: &quotedNames)
        quotedNames.append(UInt8(ascii: ":"))
        spans[index] = start..<quotedNames.count
        return start..<quotedNames.count
    }

    /// `repeats`: whether a key appears twice (`JSONText.hasRepeatedKeys`). Most events have
    /// none, and then no field is compared with the others: that check, for every field, took
    /// a quadratic share of serializing an auditd record's two dozen fields. Every key's name
    /// must be in `spans`.
    private static func write<Sink: ByteSink>(_ fields: UnsafeBufferPointer<EventField>, repeats: Bool, names: UnsafeBufferPointer<UInt8>,
                                              spans: [Range<Int>?], to sink: inout Sink) {
        func appendName(_ key: FieldKey) {
            guard let span = spans[Int(key.rawValue)] else { preconditionFailure("every name is quoted before an object is written") }
            sink.append(UnsafeBufferPointer(rebasing: names[span]))
        }
        func appendValue(at index: Int) {
            let null: StaticString = "null"
            if fields[index].isNull {
                sink.append(UnsafeBufferPointer(start: null.utf8Start, count: null.utf8CodeUnitCount))
            } else {
                JSONText.appendQuoted(fields[index].value, to: &sink)
            }
        }
        sink.append(UInt8(ascii: "{"))
        guard repeats else {
            for index in fields.indices {
                if index > 0 { sink.append(UInt8(ascii: ",")) }
                appendName(fields[index].key)
                appendValue(at: index)
            }
            sink.append(UInt8(ascii: "}"))
            return
        }
        var written = 0
        for index in fields.indices {
            let key = fields[index].key
            // Repeated keys were already written as an array at their first occurrence.
            if fields[..<index].contains(where: { $0.key == key }) { continue }
            if written > 0 { sink.append(UInt8(ascii: ",")) }
            written += 1
            appendName(key)
            if fields[(index + 1)...].contains(where: { $0.key == key }) {
                sink.append(UInt8(ascii: "["))
                var first = true
                for other in index..<fields.count where fields[other].key == key {
                    if !first { sink.append(UInt8(ascii: ",")) }
                    first = false
                    appendValue(at: other)
                }
                sink.append(UInt8(ascii: "]"))
            } else {
                appendValue(at: index)
            }
        }
        sink.append(UInt8(ascii: "}"))
    }
}
