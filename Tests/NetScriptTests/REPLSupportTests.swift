import XCTest
@testable import NetScript

/// The REPL's helpers that need no terminal: when an entry is complete, and how values show.
final class REPLSupportTests: XCTestCase {
    /// The completeness check agrees with the lexer and parser: text the parser accepts is
    /// complete, and text is incomplete only when more lines could still make it valid.
    func testIsIncompleteAgreesWithTheParser() {
        let cases: [(String, Bool)] = [
            ("json.parse \"{\\\"a\\\": 1}\"", false),      // `{` opens an interpolation that cannot end
            ("print \"\\{\\\"a\\\": 1}\"", false),          // escaped brace and quotes
            ("print \"\\{\"", false),
            ("print \"x {y", false),                        // an interpolation cannot span lines
            ("print \"x \\\" {\"", true),                   // a string inside it can: `"x \" {"` + `\n"}"`
            ("print '{'", false),
            ("print '{\"a\": 1}'", false),
            ("print 'it\\'s {'", false),
            ("print \"x {1 + 2} y\"", false),
            ("print \"a {\"}\"} b\"", false),               // a string inside an interpolation
            ("x = {a: 1}", false),
            (")", false),
            ("print \"abc", true),                          // strings may span lines
            ("print 'abc", true),
            ("fn f() {", true),
            ("fn f() {\n  return \"}\"", true),
            ("if x {\n} else", false),                      // `else {` must share a line
            ("if x {\n} else {", true),
            ("x = [1,", true),
            ("x = (1 +", true),
            ("x = 1 +", false),                             // the parser ends it at the newline
            ("xs | sort |", false),
            ("f(1, 2 3", false),                            // an error at a token: more lines cannot help
            ("print \"{1 +}\"", false),                     // the end of an interpolation's code
            ("print \"{[1,}\"", false),
            ("x = [1,\n2", true),
            ("x = {a: '}'", true),
        ]
        for (text, incomplete) in cases {
            XCTAssertEqual(Interpreter.isIncomplete(text), incomplete, text)
            if (try? Parser.parse(Source(name: "t", text: text))) != nil {
                XCTAssertFalse(Interpreter.isIncomplete(text), "the parser accepts \(text)")
            }
        }
    }

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

    /// Lists of native records become tables with a row an item, cut after maxRows.
    func testListsOfRecordsAreTables() {
        let rows = (0..<5).map { i in Value.map([("n", .int(i)), ("sq", .int(i * i))]) }
        let shown = Display.show(.list(rows), maxRows: 3)
        XCTAssertEqual(shown, "n  sq\n─  ──\n0  0\n1  1\n2  4\n… 2 more (show VALUE prints them all)")
        // Items of different kinds are not rows of one table.
        XCTAssertEqual(Display.show(.list([.map([("x", .int(1))]), .int(2)])), "[{x: 1}, 2]")
    }
}
