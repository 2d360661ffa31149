import VigilModel

/// Flattens a JSON record for the JSON-shaped formats, or says why it cannot.
struct JSONRecordReader {
    private var flattener = JSONFlattener()

    mutating func fields(of record: RawRecord) -> Result<[EventField], RejectedRecord> {
        var fields: [EventField] = []
        var text = record.text
        var syntaxError: JSONFlattener.SyntaxError?
        text.withUTF8 { bytes in
            do throws(JSONFlattener.SyntaxError) {
                try flattener.flatten(bytes, into: &fields)
            } catch {
                syntaxError = error
            }
        }
        if let syntaxError {
            return .failure(RejectedRecord(line: record.line, reason: "invalid JSON at byte \(syntaxError.offset + 1): \(syntaxError.message)", raw: record.text))
        }
        return .success(fields)
    }
}
