import CSQLite
import VigilModel

extension Connection {
    /// Registers `vigil_event_key(source_format, category, time, raw, hostname, integration)`,
    /// `EventKey.compute` as a SQL function, for migrations that rekey stored events.
    func registerEventKeyFunction() throws(StoreError) {
        let result = sqlite3_create_function_v2(
            handle, "vigil_event_key", 6, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { context, count, arguments in
                // Unsafe: SQLite hands over `count` argument values, valid for this call only.
                assert(count == 6)
                guard let arguments else { return sqlite3_result_null(context) }
                // The text with its stored length: a raw record may hold NUL bytes, where a C string would end.
                func text(_ index: Int) -> String? {
                    guard let value = arguments[index], let bytes = sqlite3_value_text(value) else { return nil }
                    return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_value_bytes(value))), as: UTF8.self)
                }
                guard let format = text(0), let raw = text(3), let hostname = text(4), let integration = text(5),
                    let time = arguments[2].map({ sqlite3_value_int64($0) })
                else { return sqlite3_result_null(context) }
                let key = EventKey.compute(sourceFormat: format, category: text(1), time: Timestamp(microseconds: time),
                                           raw: raw, hostname: hostname, integration: integration)
                sqlite3_result_int64(context, key)
            }, nil, nil, nil)
        guard result == SQLITE_OK else { throw error(result, sql: "sqlite3_create_function_v2(vigil_event_key)") }
    }
}
