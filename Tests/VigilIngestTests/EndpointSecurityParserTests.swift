import Testing
import VigilIngest

@Suite struct EndpointSecurityParserTests {
    /// The version word read from bytes is the one that splitting the text into words gives,
    /// for ASCII text and for text that is not (which takes the split itself).
    @Test(arguments: ["Version 14.4.1 (Build 23E224)", "  Version   15.0 ", "Version", "Version ", "Versions 1", "version 14",
                      "14.4.1", "", "Version\t14", "Version é 2", "Versión 14", "Version 14\u{301} x", "Version \u{301}14"])
    func macOSVersionIsTheWordAfterVersion(text: String) {
        let words = text.split(separator: " ")
        let expected = words.count >= 2 && words[0] == "Version" ? String(words[1]) : text
        #expect(EndpointSecurityParser.macOSVersion(text) == expected)
    }
}
