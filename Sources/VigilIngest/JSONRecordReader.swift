import VigilModel

/// Flattens a JSON record for the JSON-shaped formats, or says why it cannot.
struct JSONRecordReader {
    private var flattener = JSONFlattener()
    /// How many fields the last record had: the records of one source tend to share a shape, so
    /// the next record's array is made that large at once instead of growing field by field.
    private var lastFieldCount = 0
    /// The most fields reserved ahead. Each event keeps its array's capacity, so without a bound
    /// one huge record followed by small ones would leave every small one holding a huge array.
    private static let mostFieldsReserved = 64

    mutating func fields(of record: RawRecord) -> Result<[EventField], RejectedRecord> {
        var fields: [EventField] = []
        fields.reserveCapacity(min(lastFieldCount, Self.mostFieldsReserved))
        var text = record.text
        var syntaxError: JSONFlattener.SyntaxError?
        text.withUTF8 { bytes in
            do throws(JSONFlattener.SyntaxError) {
                try flattener.flatten(bytes, into: &fields)
            } catch {
                syntaxError = error
            }
        }
        lastFieldCount = fields.count
        if let syntaxError {
            return .failure(RejectedRecord(line: record.line, reason: "invalid JSON at byte \(syntaxError.offset + 1): \(syntaxError.message)", raw: record.text))
        }
        return .success(fields)
    }
}
