import XCTest
@testable import NetScript

final class LexerTests: XCTestCase {
    func kinds(_ text: String) throws -> [TokenKind] {
        try Lexer.tokenize(Source(name: "t", text: text)).map(\.kind)
    }

    func lexError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
        do { _ = try Lexer.tokenize(Source(name: "t", text: text)); XCTFail("no error for \(text)", file: file, line: line); return nil }
        catch let d as Diagnostic { XCTAssertEqual(d.kind, "syntax", file: file, line: line); return d }
        catch { XCTFail("\(error)", file: file, line: line); return nil }
    }

    func testNumbers() throws {
        XCTAssertEqual(try kinds("42 0x1F 0b101 0o17 1_000"), [.int(42), .int(31), .int(5), .int(15), .int(1000), .eof])
        XCTAssertEqual(try kinds("3.5 1e3 2.5e-3"), [.float(3.5), .float(1000), .float(0.0025), .eof])
        XCTAssertEqual(try kinds("9223372036854775807"), [.int(Int.max), .eof])
        // `1.` followed by a name is a field access, not a float.
        XCTAssertEqual(try kinds("xs.0"), [.ident("xs"), .punct("."), .int(0), .eof])
        XCTAssertNotNil(lexError("9223372036854775808"))
        XCTAssertNotNil(lexError("12abc"))
        XCTAssertNotNil(lexError("0x"))
        XCTAssertNotNil(lexError("0xffffffffffffffffff"))
    }

    func testNamesKeywordsLabels() throws {
        XCTAssertEqual(try kinds("if x_1 else"), [.keyword("if"), .ident("x_1"), .keyword("else"), .eof])
        XCTAssertEqual(try kinds("print sep: 1"), [.ident("print"), .label("sep"), .int(1), .eof])
        XCTAssertEqual(try kinds("a :b"), [.ident("a"), .punct(":"), .ident("b"), .eof])
        XCTAssertEqual(try kinds("héllo"), [.ident("héllo"), .eof])
    }

    func testPunctuationLongestMatch() throws {
        XCTAssertEqual(try kinds("a **= 2 //= 3 ** // == != <= >= += -= && || |"),
                       [.ident("a"), .punct("**="), .int(2), .punct("//="), .int(3), .punct("**"), .punct("//"),
                        .punct("=="), .punct("!="), .punct("<="), .punct(">="), .punct("+="), .punct("-="),
                        .punct("&&"), .punct("||"), .punct("|"), .eof])
    }

    func testStringsAndEscapes() throws {
        XCTAssertEqual(try kinds(#""a\n\r\t\\\"\{\u{e9}\x41""#), [.string([.text("a\n\r\t\\\"{éA")]), .eof])
        XCTAssertEqual(try kinds(#"'raw \n {x} \' \\'"#), [.rawString("raw \\n {x} ' \\"), .eof])
        XCTAssertEqual(try kinds(#"b"\x00\xff""#), [.bytes([0, 255]), .eof])
        XCTAssertEqual(try kinds(#""""#), [.string([.text("")]), .eof])
        XCTAssertNotNil(lexError(#""\q""#))
        XCTAssertNotNil(lexError(#""\xff""#), "non-ASCII \\x in a string")
        XCTAssertNotNil(lexError(#""\u{110000}""#))
        XCTAssertNotNil(lexError(#""open"#))
        XCTAssertNotNil(lexError("'open"))
        XCTAssertNotNil(lexError(#"b"open"#))
    }

    func testInterpolationParts() throws {
        let src = Source(name: "t", text: #""x={a + 1}!{ "in{b}" }""#)
        let toks = try Lexer.tokenize(src)
        guard case .string(let parts) = toks[0].kind else { return XCTFail("not a string") }
        XCTAssertEqual(parts.count, 4)
        XCTAssertEqual(parts[0], .text("x="))
        if case .code(let r) = parts[1] { XCTAssertEqual(src.text(r), "a + 1") } else { XCTFail() }
        XCTAssertEqual(parts[2], .text("!"))
        if case .code(let r) = parts[3] { XCTAssertEqual(src.text(r), #" "in{b}" "#) } else { XCTFail() }
        XCTAssertNotNil(lexError(#""{}""#))
        XCTAssertNotNil(lexError("\"{a\n}\""))
    }

    func testCommentsNewlinesContinuationsShebang() throws {
        XCTAssertEqual(try kinds("a # comment\nb"), [.ident("a"), .newline, .ident("b"), .eof])
        XCTAssertEqual(try kinds("a \\\n b"), [.ident("a"), .ident("b"), .eof])
        XCTAssertEqual(try kinds("#!/usr/bin/env netscript\nx"), [.newline, .ident("x"), .eof])
    }

    func testSpaceBefore() throws {
        let toks = try Lexer.tokenize(Source(name: "t", text: "f(x) f (x) xs[0] f [0]"))
        XCTAssertEqual(toks.map(\.spaceBefore), [true, false, false, false, true, true, false, false, true, false, false, false, true, true, false, false, true])
    }

    func testUnexpectedCharacterLocation() throws {
        guard let d = lexError("x = 1\ny = $") else { return }
        XCTAssertEqual(d.location?.line, 2)
        XCTAssertEqual(d.location?.column, 5)
        XCTAssertTrue(d.message.contains("'$'"), d.message)
    }
}
