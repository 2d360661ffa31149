import Testing
import VigilTestSupport
import VigilDetection
import VigilModel

/// A vendor's title comes from the data, so the data cannot make it unbounded.
@Suite(.runsOn(.busy)) struct VendorTitleTests {
    @Test func aHugeVendorTitleIsCut() {
        let title = String(repeating: "A", count: 100_000)
        var detector = Detector(ruleSet: RuleSet.builtin())
        var detections: [Detection] = []
        detector.detect(event(#"{"logsource":{"category":"antivirus"},"Signature":"Unix.Trojan.Mirai-1","vendor_title":"\#(title)"}"#), into: &detections)
        #expect(detections.count == 1)
        #expect(detections.first?.title.count == 200 && detections.first?.title.hasSuffix("…") == true)
        #expect(detections.first?.title.hasPrefix("AAAA") == true)
    }
}
