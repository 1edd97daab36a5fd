import XCTest
@testable import NetScript

/// The REPL's helpers that need no terminal: when an entry is complete, and how values show.
final class REPLSupportTests: XCTestCase {
    /// Strings show in a form that needs no escapes when one exists, and always read back.
    func testStringReprReadsBack() throws {
        let cases: [(String, String)] = [
            ("{\"a\": 1}", "'{\"a\": 1}'"),
            ("plain", "\"plain\""),
            ("a{b}", "'a{b}'"),
            ("say \"hi\"", "'say \"hi\"'"),
            ("it's {x}", "\"it's \\{x}\""),
            ("back\\slash {", "\"back\\\\slash \\{\""),
            ("tab\t{", "\"tab\\t\\{\""),
            ("", "\"\""),
        ]
        for (s, shown) in cases {
            XCTAssertEqual(Value.repr(.string(s)), shown, s)
        }
        for s in cases.map(\.0) + ["'", "\"'{}", "\u{7}{", "é{\"", "\\'"] {
            let literal = Value.repr(.string(s))
            let tokens = try Lexer.tokenize(Source(name: "t", text: literal))
            switch tokens.first?.kind {
            case .rawString(let r)?: XCTAssertEqual(r, s, literal)
            case .string(let parts)?:
                XCTAssertEqual(parts, [.text(s)], literal)
            default: XCTFail("\(literal) is not a string literal")
            }
        }
    }

}
