import XCTest
@testable import NetScript

/// Checks the tree shape by printing it back fully parenthesized.
final class ParserTests: XCTestCase {
    func parse(_ text: String) throws -> [Stmt] { try Parser.parse(Source(name: "t", text: text)) }

    func show(_ e: Expr) -> String {
        switch e.kind {
        case .literal(let v): return Value.repr(v)
        case .interpolated(let parts): return "str(" + parts.map { if case .expr(let x) = $0 { return "{\(show(x))}" } else if case .text(let t) = $0 { return t } else { return "" } }.joined() + ")"
        case .name(let n): return n
        case .list(let xs): return "[" + xs.map(show).joined(separator: ", ") + "]"
        case .map(let es): return "{" + es.map { "\(show($0.0)): \(show($0.1))" }.joined(separator: ", ") + "}"
        case .unary(let op, let x): return "(\(op) \(show(x)))"
        case .binary(let op, let a, let b): return "(\(show(a)) \(op) \(show(b)))"
        case .and(let a, let b): return "(\(show(a)) and \(show(b)))"
        case .or(let a, let b): return "(\(show(a)) or \(show(b)))"
        case .field(let o, let n): return "\(show(o)).\(n)"
        case .index(let o, let i): return "\(show(o))[\(show(i))]"
        case .slice(let o, let a, let b): return "\(show(o))[\(a.map(show) ?? ""):\(b.map(show) ?? "")]"
        case .call(let h, let args, let bare):
            if bare { return "\(show(h))!" }
            return "call(\(show(h))" + args.map { a -> String in
                switch a { case .positional(let x): return " " + show(x); case .option(let k, let x, _): return " \(k):\(show(x))" }
            }.joined() + ")"
        case .pipe(let l, let h, let args):
            return "pipe(\(show(l)) | \(show(h))" + args.map { a -> String in
                switch a { case .positional(let x): return " " + show(x); case .option(let k, let x, _): return " \(k):\(show(x))" }
            }.joined() + ")"
        case .function(let d): return "fn(\(d.params.map { ($0.isRest ? "..." : "") + $0.name + ($0.defaultValue.map { "=" + show($0) } ?? "") }.joined(separator: ",")))"
        }
    }

    func expr(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            // A list item is not in command position, so a leading name is not a bare call.
            let stmts = try parse("x = [" + text + "]")
            guard stmts.count == 1, case .assign(_, _, let l) = stmts[0].kind, case .list(let items) = l.kind, items.count == 1 else {
                XCTFail("not one assignment", file: file, line: line); return ""
            }
            return show(items[0])
        } catch { XCTFail("\(error)", file: file, line: line); return "" }
    }

    func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
        do { _ = try parse(text); XCTFail("no syntax error for: \(text)", file: file, line: line) }
        catch let d as Diagnostic { XCTAssertEqual(d.kind, "syntax", file: file, line: line); return d }
        catch { XCTFail("\(error)", file: file, line: line) }
        return nil
    }

    func testPrecedence() {
        XCTAssertEqual(expr("1 + 2 * 3"), "(1 + (2 * 3))")
        XCTAssertEqual(expr("1 - 2 - 3"), "((1 - 2) - 3)")
        XCTAssertEqual(expr("2 ** 3 ** 2"), "(2 ** (3 ** 2))")
        XCTAssertEqual(expr("-a ** 2"), "(- (a ** 2))")
        XCTAssertEqual(expr("2 ** -1"), "(2 ** -1)")
        XCTAssertEqual(expr("a // b % c * d"), "(((a // b) % c) * d)")
        XCTAssertEqual(expr("a + b < c * d"), "((a + b) < (c * d))")
        XCTAssertEqual(expr("not a == b"), "(not (a == b))")
        XCTAssertEqual(expr("a or b and c"), "(a or (b and c))")
        XCTAssertEqual(expr("not a or b"), "((not a) or b)")
        XCTAssertEqual(expr("a && b || !c"), "((a and b) or (not c))")
        XCTAssertEqual(expr("a in b and c not in d"), "((a in b) and (c not in d))")
        XCTAssertEqual(expr("(1 + 2) * 3"), "((1 + 2) * 3)")
    }

    func testCommandCalls() {
        XCTAssertEqual(expr("f a b"), "call(f a b)")
        XCTAssertEqual(expr("f a key: 1 b"), "call(f a key:1 b)")
        XCTAssertEqual(expr("f(a, b)"), "call(f a b)")
        XCTAssertEqual(expr("f(a, k: 2)"), "call(f a k:2)")
        XCTAssertEqual(expr("f (g a) c"), "call(f call(g a) c)")
        XCTAssertEqual(expr("f -1"), "call(f -1)")
        XCTAssertEqual(expr("f - 1"), "(f - 1)")
        XCTAssertEqual(expr("f [1]"), "call(f [1])")
        XCTAssertEqual(expr("xs[1]"), "xs[1]")
        XCTAssertEqual(expr("xs[1:2]"), "xs[1:2]")
        XCTAssertEqual(expr("xs[a:]"), "xs[a:]")
        XCTAssertEqual(expr("xs[:2]"), "xs[:2]")
        XCTAssertEqual(expr("json.parse t"), "call(json.parse t)")
        XCTAssertEqual(expr("json parse t"), "call(json parse t)")
        XCTAssertEqual(expr("(now)"), "now!")
        XCTAssertEqual(expr("(a.b)"), "a.b!")
        XCTAssertEqual(expr("a.b"), "a.b")
        XCTAssertEqual(expr("f a + 1"), "(call(f a) + 1)")
        XCTAssertEqual(expr("f {a: 1}"), "call(f {\"a\": 1})")
        XCTAssertEqual(expr("map fn(x) { x } xs"), "call(map fn(x) xs)")
    }

    func testPipelines() {
        XCTAssertEqual(expr("a | f x"), "pipe(a | f x)")
        XCTAssertEqual(expr("a | f | g _ 1"), "pipe(pipe(a | f) | g _ 1)")
        XCTAssertEqual(expr("1 + 2 | f"), "pipe((1 + 2) | f)")
        XCTAssertEqual(expr("a\n  | f"), "pipe(a | f)")
    }

    func testLiterals() {
        XCTAssertEqual(expr("[1, \"a\", nil, true]"), "[1, \"a\", nil, true]")
        XCTAssertEqual(expr("{a: 1, \"b c\": 2, 3: 4}"), "{\"a\": 1, \"b c\": 2, 3: 4}")
        XCTAssertEqual(expr("[\n1,\n2,\n]"), "[1, 2]")
        XCTAssertEqual(expr("\"v={v + 1}\""), "str(v={(v! + 1)})")  // interpolations are in command position: "{now}" calls
        XCTAssertEqual(expr("-9223372036854775807"), "-9223372036854775807")
        XCTAssertEqual(expr("fn(a, b = 2, ...r) { a }"), "fn(a,b=2,...r)")
    }

    /// IPv6 literals beside the one-colon forms they must not disturb (grammar.md §1).
    func testIPv6LiteralsBesideSlicesAndMaps() {
        XCTAssertEqual(expr("xs[1:2]"), "xs[1:2]")
        XCTAssertEqual(expr("xs[1:]"), "xs[1:]")
        XCTAssertEqual(expr("xs[:2]"), "xs[:2]")
        XCTAssertEqual(expr("xs[a:b]"), "xs[a:b]")
        XCTAssertEqual(expr("xs[ab:cd]"), "xs[ab:cd]")
        XCTAssertEqual(expr("xs[0:ff]"), "xs[0:ff]")
        XCTAssertEqual(expr("xs[:]"), "xs[:]")
        XCTAssertEqual(expr("xs[::1]"), "xs[::1]")                 // an index by the address ::1
        XCTAssertEqual(expr("xs[::1 : ::5]"), "xs[::1:::5]")       // a slice between two addresses
        XCTAssertEqual(expr("{1:2, x:3, (k):4}"), "{1: 2, \"x\": 3, k!: 4}")
        XCTAssertEqual(expr("{a: ::1, ::2: 3}"), "{\"a\": ::1, ::2: 3}")
        XCTAssertEqual(expr("n6[0:4]"), "n6[0:4]")
        XCTAssertEqual(expr("2001:db8::/32[1]"), "2001:db8::/32[1]")
        XCTAssertEqual(expr("(::1).version"), "::1.version")
        XCTAssertEqual(expr("::1 + 1"), "(::1 + 1)")
        XCTAssertNotNil(syntaxError("x = {::1}"))
    }

    func testStatements() throws {
        let s = try parse("""
        if a { b } else if c { d }
        else { e }
        while x { break; continue }
        for k, v in m { }
        fn f(a, t: 5, ...rest) { return }
        try { x } catch "zero", "io" e { } finally { }
        import "lib.net"
        global g, h
        xs[0] += 1
        m.k = 2
        """)
        XCTAssertEqual(s.count, 9)
        guard case .ifElse(let branches, let elseBody) = s[0].kind else { return XCTFail() }
        XCTAssertEqual(branches.count, 2); XCTAssertNotNil(elseBody)
        guard case .forLoop(let names, _, _) = s[2].kind else { return XCTFail() }
        XCTAssertEqual(names, ["k", "v"])
        guard case .function(let d) = s[3].kind else { return XCTFail() }
        XCTAssertEqual(d.name, "f"); XCTAssertEqual(d.params.map(\.name), ["a", "t", "rest"]); XCTAssertTrue(d.params[2].isRest)
        guard case .tryCatch(_, let clauses, let fin) = s[4].kind else { return XCTFail() }
        XCTAssertEqual(clauses.first?.kinds, ["zero", "io"]); XCTAssertEqual(clauses.first?.binding, "e"); XCTAssertNotNil(fin)
        guard case .global(let gs) = s[6].kind else { return XCTFail() }
        XCTAssertEqual(gs, ["g", "h"])
        guard case .assign(let t, let op, _) = s[7].kind, case .index = t.kind else { return XCTFail() }
        XCTAssertEqual(op, "+=")
    }

    func testSyntaxErrors() {
        XCTAssertEqual(syntaxError("x = (1 + 2")?.message, "expected ')' to close the '(' opened at column 5, found end of input")
        XCTAssertNotNil(syntaxError("if x { y"))
        XCTAssertNotNil(syntaxError("else { }"))
        XCTAssertNotNil(syntaxError("catch e { }"))
        XCTAssertNotNil(syntaxError("try { }"))
        XCTAssertNotNil(syntaxError("1 = 2"))
        XCTAssertNotNil(syntaxError("a < b < c"))
        XCTAssertNotNil(syntaxError("fn f(a, a) { }"))
        XCTAssertNotNil(syntaxError("fn f(...r, a) { }"))
        XCTAssertNotNil(syntaxError("print sep:"))
        XCTAssertNotNil(syntaxError("x = [1, 2"))
        XCTAssertNotNil(syntaxError("x = {a: 1"))
        XCTAssertNotNil(syntaxError("x = 1 | 2"))
        XCTAssertNotNil(syntaxError("x = ()"))
        XCTAssertNotNil(syntaxError("\"a\" b"))
        let d = syntaxError("x = 1\ny = )")
        XCTAssertEqual(d?.location?.line, 2)
        XCTAssertEqual(d?.location?.column, 5)
    }

    func testSourceRangesPointAtExpressions() throws {
        let s = try parse("x = 1\n  print (a + b)")
        guard case .expr(let e) = s[1].kind, case .call(_, let args, _) = e.kind, case .positional(let a) = args[0] else { return XCTFail() }
        let loc = SourceLocation(source: Source(name: "t", text: "x = 1\n  print (a + b)"), range: a.range)
        XCTAssertEqual(loc.line, 2); XCTAssertEqual(loc.column, 9); XCTAssertEqual(loc.width, 7)
    }
}
