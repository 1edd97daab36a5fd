import XCTest
@testable import NetScript

/// The decisions grammar.md §2 records where the parser and the grammar once disagreed:
/// `...` is one token, `for` takes any number of names, `catch` kinds, keyword fields.
final class FrontEndTests: XCTestCase {
    func run(_ code: String) throws -> (Value, String) {
        let interp = Interpreter(output: Output(fd: 1))
        var printed = ""
        interp.output.capture = { printed += $0 }
        let v = try interp.run(Source(name: "t", text: code))
        return (v, printed)
    }

    func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
        do { _ = try Parser.parse(Source(name: "t", text: text)); XCTFail("no syntax error for: \(text)", file: file, line: line) }
        catch let d as Diagnostic { XCTAssertEqual(d.kind, "syntax", file: file, line: line); return d }
        catch { XCTFail("\(error)", file: file, line: line) }
        return nil
    }

    func testEllipsisIsOneToken() throws {
        let kinds = try Lexer.tokenize(Source(name: "t", text: "(...r) . . . x ....")).map(\.kind)
        XCTAssertEqual(kinds, [.symbol(.leftParen), .symbol(.ellipsis), .ident("r"), .symbol(.rightParen),
                               .symbol(.dot), .symbol(.dot), .symbol(.dot), .ident("x"), .symbol(.ellipsis), .symbol(.dot), .eof])
        // Spaced dots are three dots, not a rest parameter.
        let d = syntaxError("fn f(. . . x) { x }")
        XCTAssertEqual(d?.message, "expected a parameter name, found '.'")
        XCTAssertEqual(d?.location?.column, 6)
        // `...` is a rest parameter only: it takes a name and no default.
        XCTAssertEqual(syntaxError("fn f(...r = [1]) { r }")?.message, "'...r' takes no default value (it collects the remaining arguments)")
        XCTAssertEqual(syntaxError("fn f(...r: 1) { r }")?.message, "'...r' takes no default value (it collects the remaining arguments)")
        XCTAssertEqual(syntaxError("fn f(...) { }")?.message, "expected a parameter name after '...', found ')'")
        XCTAssertEqual(syntaxError("x = [1, 2]...")?.message, "expected end of statement, found '...'")
        XCTAssertEqual(try run("fn f(a, ...r) { [a, r] }\nf 1 2 3").0, try run("[1, [2, 3]]").0)
    }

    func testForTakesAnyNumberOfNames() throws {
        let (_, out) = try run("for a, b, c in [[1, 2, 3], [4, 5, 6]] { print a b c }\nfor x in [7] { print x }\nfor k, v in {a: 1} { print k v }")
        XCTAssertEqual(out, "1 2 3\n4 5 6\n7\na 1\n")
        XCTAssertThrowsError(try run("for a, b, c in [[1, 2]] { }")) { e in
            XCTAssertEqual((e as? Diagnostic)?.kind, "value")
        }
        XCTAssertEqual(syntaxError("for a, in xs { }")?.message, "expected a second loop variable name, found keyword 'in'")
        XCTAssertEqual(syntaxError("for a, b, 1 in xs { }")?.message, "expected another loop variable name, found number 1")
    }

    func testCatchKinds() throws {
        let (_, out) = try run("""
            try { fail "x" kind: "dns.nxdomain" } catch 'timeout', 'dns' e { print "caught" e.kind }
            try { 1 / 0 } catch "io" { print "no" } catch "zero" { print "zero" }
            """)
        XCTAssertEqual(out, "caught dns.nxdomain\nzero\n")
        // A comma is followed by another kind; a kind has no interpolation.
        let d = syntaxError("try { } catch \"io\", e { }")
        XCTAssertEqual(d?.message, "expected an error kind (a string) after ',', found name 'e'")
        XCTAssertEqual(d?.location?.column, 21)
        XCTAssertEqual(syntaxError("try { } catch \"io\", { }")?.message, "expected an error kind (a string) after ',', found '{'")
        XCTAssertEqual(syntaxError("k = \"io\"\ntry { } catch \"{k}\" { }")?.message, "an error kind in 'catch' is a plain string, without {…}")
    }

    func testKeywordsAreFieldNames() throws {
        XCTAssertEqual(try run("m = {\"in\": 1, \"for\": 2, \"nil\": 3}\n[m.in, m.for, m.nil]").0, try run("[1, 2, 3]").0)
    }

    /// Inside the brackets of a call or an index in a condition, `{` is a map again.
    func testBracesInsideBracketsOfACondition() throws {
        let (_, out) = try run("fn f(m) { m.a }\nfn id(x) { x }\nif f(id {a: 1}) == 1 { print \"yes\" }\nxs = [5]\nwhile xs[len {a: 1} - 1] == 5 { print \"once\"; xs[0] = 0 }")
        XCTAssertEqual(out, "yes\nonce\n")
    }

    /// Address literals go through NetKit's parser: values and its errors, at the literal.
    func testAddressLiteralsUseNetKit() throws {
        XCTAssertEqual(Value.repr(try run("10.0.0.0/8").0), Value.repr(try run("cidr \"10.0.0.0/8\"").0))
        XCTAssertEqual(Value.repr(try run("fe80::1%eth0").0), Value.repr(try run("ip \"fe80::1%eth0\"").0))
        for (text, message) in [("x = 10.0.0.256", "10.0.0.256: octet 256 is out of range"),
                                ("x = 00:1b:77:49:54:fd", "00:1b:77:49:54:fd is not an IP address but looks like a MAC: write mac \"00:1b:77:49:54:fd\"")] {
            do { _ = try Parser.parse(Source(name: "t", text: text)); XCTFail(text) } catch let d as Diagnostic {
                XCTAssertEqual(d.kind, "value")
                XCTAssertEqual(d.message, message)
                XCTAssertEqual(d.location?.column, 5)
            }
        }
    }
}
