import Testing
import VigilModel

struct HTMLTextTests {
    @Test func theFiveMarkupCharactersAreEscapedAndTheRestKept() {
        #expect("a<b>&\"c\"'d'".htmlEscaped == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;")
        #expect("plain text, é and 😀".htmlEscaped == "plain text, é and 😀")
        #expect("".htmlEscaped == "")
        #expect("<é😀>".htmlEscaped == "&lt;é😀&gt;")
    }

    /// `<` followed by a combining mark is one Character that is not `<`: an escaper walking
    /// Characters let it through as markup.
    @Test func aCombiningMarkDoesNotSmuggleMarkupPastTheEscaper() {
        let hostile = "<\u{301}script\u{301}>alert(1)<\u{301}/script>"
        let escaped = hostile.htmlEscaped
        #expect(!escaped.utf8.contains(UInt8(ascii: "<")))
        #expect(!escaped.utf8.contains(UInt8(ascii: ">")))
        #expect(escaped == "&lt;\u{301}script\u{301}&gt;alert(1)&lt;\u{301}/script&gt;")
    }

    /// Random text: escaping then unescaping the five entities gives the text back, and no
    /// markup byte is left.
    @Test func escapingRoundTripsOnRandomText() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "<", ">", "&", "\"", "'", "é", "\u{301}", "😀", " ", ";"]
        for _ in 0..<500 {
            let text = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let escaped = text.htmlEscaped
            #expect(!escaped.utf8.contains { [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'")].contains($0) })
            #expect(Self.unescaped(Array(escaped.utf8)) == Array(text.utf8))
        }
    }

    /// Undoes the five entities over bytes (Foundation's replacing works on Characters, and a
    /// combining mark after `;` would hide the entity from it).
    private static func unescaped(_ bytes: [UInt8]) -> [UInt8] {
        let entities: [(String, UInt8)] = [("&lt;", UInt8(ascii: "<")), ("&gt;", UInt8(ascii: ">")), ("&quot;", UInt8(ascii: "\"")),
                                           ("&#39;", UInt8(ascii: "'")), ("&amp;", UInt8(ascii: "&"))]
        var output: [UInt8] = [], index = 0
        outer: while index < bytes.count {
            for (entity, byte) in entities where bytes[index...].starts(with: entity.utf8) {
                output.append(byte)
                index += entity.utf8.count
                continue outer
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }
}
