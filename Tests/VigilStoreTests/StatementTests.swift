import Testing
import VigilTooling
@testable import VigilStore

struct StatementTests {
    /// Text bound in place (`SQLITE_STATIC`) is stored exactly, empty and multi-byte text
    /// included, and the parameter is unbound when the closure returns: a later step cannot
    /// read the bytes, which may be gone by then.
    @Test func textBoundInPlaceIsStoredAndUnboundAfterwards() throws {
        let database = TemporaryDirectory()
        let connection = try Connection(path: database.databasePath)
        try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
        let insert = try connection.statement("INSERT INTO t (a, b) VALUES (?, ?)")
        let texts = ["", "plain", "héllo 😀 \u{0} after a NUL", String(repeating: "long text ", count: 500)]
        for text in texts {
            try insert.withUnsafeTextInPlace(text, at: 1) {
                try insert.withUnsafeTextInPlace(text + "!", at: 2) { try insert.run() }
            }
        }
        // Stepped again after the closures: both parameters are NULL, not the old bytes.
        try insert.run()
        let rows = try connection.statement("SELECT a, b FROM t ORDER BY id").rows { ($0.optionalText("a"), $0.optionalText("b")) }
        #expect(rows.count == texts.count + 1)
        for (row, text) in zip(rows, texts) {
            #expect(row.0 == text)
            #expect(row.1 == text + "!")
        }
        #expect(rows.last?.0 == nil)
        #expect(rows.last?.1 == nil)
    }
}
