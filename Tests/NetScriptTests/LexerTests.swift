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

    /// IPv6 literals (grammar.md §1): a run of hex digits and colons with `::`, or starting with
    /// a decimal digit and holding two colons or more, or seven colons. Labels, maps and slices,
    /// which have one colon, keep their meaning.
    func testIPv6Literals() throws {
        for text in ["2001:db8::1", "2001:db8::/32", "::1", "::", "::/0", "fe80::1", "FE80::1", "::ffff:192.0.2.1",
                     "fe80::1%eth0", "fe80::1%1", "2001:db8:0:0:0:0:0:1", "64:ff9b::192.0.2.1", "cafe::", "1:2:3:4:5:6:7:8",
                     "a:b:c:d:e:f:0:1", "2001:DB8::/48"] {
            XCTAssertEqual(try kinds(text), [.address(text), .eof], text)
        }
        // Fields, indexes, operators and commas right after the literal end it.
        XCTAssertEqual(try kinds("::1.version"), [.address("::1"), .punct("."), .ident("version"), .eof])
        XCTAssertEqual(try kinds("::ffff:192.0.2.1.ipv4"), [.address("::ffff:192.0.2.1"), .punct("."), .ident("ipv4"), .eof])
        XCTAssertEqual(try kinds("fe80::1.exploded"), [.address("fe80::1"), .punct("."), .ident("exploded"), .eof])
        XCTAssertEqual(try kinds("[::1, ::2]"), [.punct("["), .address("::1"), .punct(","), .address("::2"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("::1+1"), [.address("::1"), .punct("+"), .int(1), .eof])
        XCTAssertEqual(try kinds("2001:db8::/32)"), [.address("2001:db8::/32"), .punct(")"), .eof])
        XCTAssertEqual(try kinds("::1 / 2"), [.address("::1"), .punct("/"), .int(2), .eof])
        // Letters glued on stay in the token, for the address parser to reject whole.
        XCTAssertEqual(try kinds("fe80::1g"), [.address("fe80::1g"), .eof])
        XCTAssertEqual(try kinds("00:1b:77:49:54:fd"), [.address("00:1b:77:49:54:fd"), .eof])
    }

    func testOneColonStaysALabelMapEntryOrSlice() throws {
        XCTAssertEqual(try kinds("{1:2}"), [.punct("{"), .int(1), .punct(":"), .int(2), .punct("}"), .eof])
        XCTAssertEqual(try kinds("{x:1}"), [.punct("{"), .label("x"), .int(1), .punct("}"), .eof])
        XCTAssertEqual(try kinds("{ab:cd}"), [.punct("{"), .label("ab"), .ident("cd"), .punct("}"), .eof])
        XCTAssertEqual(try kinds("{a: ::1}"), [.punct("{"), .label("a"), .address("::1"), .punct("}"), .eof])
        XCTAssertEqual(try kinds("xs[1:2]"), [.ident("xs"), .punct("["), .int(1), .punct(":"), .int(2), .punct("]"), .eof])
        XCTAssertEqual(try kinds("xs[1:]"), [.ident("xs"), .punct("["), .int(1), .punct(":"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("xs[:2]"), [.ident("xs"), .punct("["), .punct(":"), .int(2), .punct("]"), .eof])
        XCTAssertEqual(try kinds("xs[:ff]"), [.ident("xs"), .punct("["), .punct(":"), .ident("ff"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("xs[a:b]"), [.ident("xs"), .punct("["), .label("a"), .ident("b"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("xs[0:ff]"), [.ident("xs"), .punct("["), .int(0), .punct(":"), .ident("ff"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("xs[:]"), [.ident("xs"), .punct("["), .punct(":"), .punct("]"), .eof])
        // A single colon at either end of the run is the slice's or the map entry's.
        XCTAssertEqual(try kinds("xs[::1:]"), [.ident("xs"), .punct("["), .address("::1"), .punct(":"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("xs[:2001:db8::1]"), [.ident("xs"), .punct("["), .punct(":"), .address("2001:db8::1"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("{::1:x}"), [.punct("{"), .address("::1"), .punct(":"), .ident("x"), .punct("}"), .eof])
        XCTAssertEqual(try kinds("{::1: 2}"), [.punct("{"), .address("::1"), .punct(":"), .int(2), .punct("}"), .eof])
        XCTAssertEqual(try kinds("{::1:2}"), [.punct("{"), .address("::1:2"), .punct("}"), .eof])   // hex digits: one address
        XCTAssertEqual(try kinds("{2001:db8::1: x}"), [.punct("{"), .address("2001:db8::1"), .punct(":"), .ident("x"), .punct("}"), .eof])
        XCTAssertEqual(try kinds("xs[1:2:]"), [.ident("xs"), .punct("["), .int(1), .punct(":"), .int(2), .punct(":"), .punct("]"), .eof])
        XCTAssertEqual(try kinds("dns \"A\" x server:s"), [.ident("dns"), .string([.text("A")]), .ident("x"), .label("server"), .ident("s"), .eof])
        XCTAssertEqual(try kinds("f dead:beef"), [.ident("f"), .label("dead"), .ident("beef"), .eof])
        XCTAssertEqual(try kinds("f a:b:c"), [.ident("f"), .label("a"), .label("b"), .ident("c"), .eof])
        // Names that are not all hex digits never start an address.
        XCTAssertEqual(try kinds("face_id:1"), [.label("face_id"), .int(1), .eof])
        XCTAssertEqual(try kinds("0x1f:2"), [.int(31), .punct(":"), .int(2), .eof])
        XCTAssertEqual(try kinds("b\"x\""), [.bytes([0x78]), .eof])
        XCTAssertEqual(try kinds("10.0.0.1"), [.address("10.0.0.1"), .eof])
    }

    func testUnexpectedCharacterLocation() throws {
        guard let d = lexError("x = 1\ny = $") else { return }
        XCTAssertEqual(d.location?.line, 2)
        XCTAssertEqual(d.location?.column, 5)
        XCTAssertTrue(d.message.contains("'$'"), d.message)
    }
}
