import Testing
import VigilModel

@Suite struct LogSourceTests {
    /// Sigma compares logsource names in lowercase; the taxonomy's names are shared, others kept as given.
    @Test(arguments: [("Process_Creation", "process_creation"), ("linux", "linux"), ("MacOS", "macos"),
                      ("Custom_Feed", "custom_feed"), ("ÜBERWACHUNG", "überwachung"), ("", "")])
    func aPartIsStoredInLowercase(given: String, stored: String) {
        #expect(LogSource.normalized(given) == stored)
        #expect(LogSource(product: given, category: given, service: given) == LogSource(product: stored, category: stored, service: stored))
    }
}
