import Testing
import VigilModel

/// The vendor severity table (README, "Vendor findings").
@Suite struct SeverityVendorTests {
    @Test(arguments: [
        ("0", Severity.low), ("3", .low), ("4", .medium), ("6", .medium), ("7", .high), ("8", .high), ("9", .critical), ("10", .critical),
        ("info", .informational), ("Informational", .informational), ("minor", .low), ("Low", .low), ("moderate", .medium),
        ("Medium", .medium), ("warning", .medium), ("major", .high), ("High", .high), ("severe", .high), ("Critical", .critical),
        ("Very-High", .critical), ("very high", .critical),
    ])
    func vendorWordsMapOntoVigilsScale(text: String, expected: Severity) {
        #expect(Severity(vendor: text) == expected)
    }

    @Test(arguments: ["11", "-1", "unknown", ""])
    func unknownSeveritiesMapToNothing(text: String) {
        #expect(Severity(vendor: text) == nil)
    }
}
