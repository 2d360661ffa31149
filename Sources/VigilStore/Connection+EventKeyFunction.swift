import CSQLite
import VigilModel

extension Connection {
    /// Registers the SQL functions of `EventKey`, for migrations that rekey stored events:
    /// - `vigil_event_key(source_format, category, time, raw, hostname, integration)`: its
    ///   `identity`, the key of schema versions 9 to 19;
    /// - `vigil_event_storage_key(source_format, category, time, raw, hostname, integration, probe)`:
    ///   its `storageKey(probe:)`.
    func registerEventKeyFunctions() throws(StoreError) {
        try register("vigil_event_key", arguments: 6)
        try register("vigil_event_storage_key", arguments: 7)
    }

    /// With 6 arguments the function returns `identity`, with 7 the storage key of the last argument's try.
    private func register(_ name: String, arguments: Int32) throws(StoreError) {
        let result = sqlite3_create_function_v2(
            handle, name, arguments, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { context, count, arguments in
                // Unsafe: SQLite hands over `count` argument values, valid for this call only.
                assert(count == 6 || count == 7)
                guard let arguments else { return sqlite3_result_null(context) }
                // The text with its stored length: a raw record may hold NUL bytes, where a C string would end.
                func text(_ index: Int) -> String? {
                    guard let value = arguments[index], let bytes = sqlite3_value_text(value) else { return nil }
                    return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_value_bytes(value))), as: UTF8.self)
                }
                guard let format = text(0), let raw = text(3), let hostname = text(4), let integration = text(5),
                    let time = arguments[2].map({ sqlite3_value_int64($0) })
                else { return sqlite3_result_null(context) }
                let key = EventKey(sourceFormat: format, category: text(1), time: Timestamp(microseconds: time),
                                   raw: raw, hostname: hostname, integration: integration)
                guard count == 7 else { return sqlite3_result_int64(context, key.identity) }
                let probe = arguments[6].map { Int(sqlite3_value_int64($0)) } ?? -1
                guard probe >= 0 && probe < EventKey.maximumProbes else {
                    return sqlite3_result_error(context, "vigil_event_storage_key: the try must be 0 to \(EventKey.maximumProbes - 1)", -1)
                }
                sqlite3_result_int64(context, key.storageKey(probe: probe))
            }, nil, nil, nil)
        guard result == SQLITE_OK else { throw error(result, sql: "sqlite3_create_function_v2(\(name))") }
    }
}
