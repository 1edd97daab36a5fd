import XCTest
@testable import NetScript

/// The interpreter in-process: values, output, errors and their locations.
final class EvaluatorTests: InterpreterTestCase {
    func eval(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard let v = run("__r = (\(code))\n__r", file: file, line: line) else { return "<error>" }
        return Value.repr(v)
    }

    func testArithmetic() {
        XCTAssertEqual(eval("1 + 2 * 3"), "7")
        XCTAssertEqual(eval("7 / 2"), "3.5")
        XCTAssertEqual(eval("-7 // 2"), "-4")
        XCTAssertEqual(eval("-7 % 3"), "2")
        XCTAssertEqual(eval("2 ** 62"), "4611686018427387904")
        XCTAssertEqual(eval("2 ** -2"), "0.25")
        XCTAssertEqual(eval("1 + 0.5"), "1.5")
        XCTAssertEqual(eval("\"a\" * 3"), "\"aaa\"")
        XCTAssertEqual(eval("[1] + [2]"), "[1, 2]")
        XCTAssertEqual(eval("-9223372036854775807 - 1"), "-9223372036854775808")
    }

    func testOverflowAndZero() {
        XCTAssertEqual(failure("x = 9223372036854775807 + 1")?.kind, "overflow")
        XCTAssertEqual(failure("x = -9223372036854775807 - 2")?.kind, "overflow")
        XCTAssertEqual(failure("x = 4611686018427387904 * 2")?.kind, "overflow")
        XCTAssertEqual(failure("x = 2 ** 64")?.kind, "overflow")
        XCTAssertEqual(failure("x = (-9223372036854775807 - 1) // -1")?.kind, "overflow")
        XCTAssertEqual(failure("x = abs (-9223372036854775807 - 1)")?.kind, "overflow")
        XCTAssertEqual(failure("x = 1 / 0")?.kind, "zero")
        XCTAssertEqual(failure("x = 1 // 0")?.kind, "zero")
        XCTAssertEqual(failure("x = 1 % 0")?.kind, "zero")
        XCTAssertEqual(failure("x = 1.0 / 0")?.kind, "zero")
    }

    func testComparisonsAndMembership() {
        XCTAssertEqual(eval("1 == 1.0"), "true")
        XCTAssertEqual(eval("[1, [2]] == [1, [2]]"), "true")
        XCTAssertEqual(eval("\"b\" > \"a\""), "true")
        XCTAssertEqual(eval("2 in range 1 3"), "true")
        XCTAssertEqual(eval("\"k\" in {k: 1}"), "true")
        XCTAssertEqual(eval("3 not in [1, 2]"), "true")
        XCTAssertEqual(failure("x = 1 < \"a\"")?.kind, "type")
    }

    func testShortCircuit() {
        run("calls = 0\nfn bump() { global calls; calls += 1; true }")
        XCTAssertEqual(eval("false and bump()"), "false")
        XCTAssertEqual(eval("true or bump()"), "true")
        XCTAssertEqual(eval("calls"), "0")
        XCTAssertEqual(eval("nil or 5"), "5")
    }

    func testPrintCapturedWithOptions() {
        run("print 1 \"a\" [2]\nprint \"x\" \"y\" sep: \"-\" end: \"!\"")
        XCTAssertEqual(printed, "1 a [2]\nx-y!")
    }

    func testLastValueIsShownForExpressionsOnly() {
        run("1 + 1")
        XCTAssertTrue(interp.lastWasExpression)
        XCTAssertEqual(interp.lastValue, .int(2))
        run("y = 3")
        XCTAssertFalse(interp.lastWasExpression)
    }

    func testGlobalsPersistAcrossRuns() {
        run("x = 41")
        run("x += 1")
        XCTAssertEqual(eval("x"), "42")
        run("fn f() { x }")
        XCTAssertEqual(eval("f()"), "42")
    }

    func testFunctionsAndArguments() {
        run("fn f(a, b = 10, ...rest) { [a, b, rest] }")
        XCTAssertEqual(eval("f 1"), "[1, 10, []]")
        XCTAssertEqual(eval("f 1 2 3 4"), "[1, 2, [3, 4]]")
        XCTAssertEqual(eval("f 1 b: 5"), "[1, 5, []]")
        XCTAssertEqual(failure("f()")?.kind, "type")
        // A bare name that needs arguments is its value, not a call.
        XCTAssertEqual(eval("type f"), "\"function\"")
        XCTAssertEqual(failure("f 1 c: 2")?.kind, "type")
        run("fn g(a) { a }")
        XCTAssertEqual(failure("g 1 2")?.message, "g takes 1 argument, got 2")
        XCTAssertEqual(failure("len 1 2")?.kind, "type")
        XCTAssertEqual(failure("print nope: 1")?.kind, "type")
    }

    func testClosuresShareVariables() {
        run("""
        fn pair() {
            n = 0
            inc = fn() { n += 1 }
            get = fn() { n }
            [inc, get]
        }
        p = pair()
        p[0]()
        p[0]()
        """)
        XCTAssertEqual(eval("p[1]()"), "2")
    }

    func testErrorLocationsPointAtInnermostExpression() {
        let d = failure("x = 1\nfn f(m) {\n  return m.k + 1\n}\nf {}")
        XCTAssertEqual(d?.kind, "key")
        XCTAssertEqual(d?.location?.line, 3)
        XCTAssertEqual(d?.location?.column, 10)
        XCTAssertEqual(d?.location?.file, "test")
    }

    func testCatchBindsErrorFields() {
        run("try { [1][3] } catch \"index\" e { r = [e.kind, e.line, e.column, e.file] }")
        XCTAssertEqual(eval("r"), "[\"index\", 1, 7, \"test\"]")
        XCTAssertEqual(failure("try { fail \"x\" kind: \"a\" } catch \"b\" { }")?.kind, "a")
    }

    func testCompileTimeSyntaxErrors() {
        XCTAssertEqual(failure("break")?.kind, "syntax")
        XCTAssertEqual(failure("continue")?.kind, "syntax")
        XCTAssertEqual(failure("return 1")?.kind, "syntax")
        XCTAssertEqual(failure("fn f(a) { global a }")?.kind, "syntax")
        XCTAssertEqual(failure("print \"a\" x: 1 x: 2")?.kind, "syntax")
        XCTAssertEqual(failure("x = 1 | f _ _")?.kind, "syntax")
    }

    func testRecursionLimit() {
        interp.maxCallDepth = 200
        let d = failure("fn f(n) { f(n + 1) }\nf(0)")
        XCTAssertEqual(d?.kind, "recursion")
        // The interpreter is still usable afterwards.
        XCTAssertEqual(eval("1 + 1"), "2")
        run("fn depth(n) { if n == 0 { return 0 }; 1 + (depth (n - 1)) }")
        XCTAssertEqual(eval("depth 150"), "150")
    }

    func testInterruptFlagStopsLoops() {
        interruptFlag.store(true, ordering: .relaxed)
        let d = failure("while true { }")
        XCTAssertEqual(d?.kind, "interrupted")
        XCTAssertFalse(interruptFlag.load(ordering: .relaxed), "the flag is cleared once reported")
    }

    func testStringsAreScalarIndexed() {
        XCTAssertEqual(eval("len \"héllo\""), "5")
        XCTAssertEqual(eval("\"héllo\"[1]"), "\"é\"")
        XCTAssertEqual(eval("list \"a\\r\\nb\""), "[\"a\", \"\\r\", \"\\n\", \"b\"]")
        XCTAssertEqual(eval("endswith \"line\\r\\n\" \"\\n\""), "true")
    }

    func testJSONRoundTrip() {
        run("print (json (json.parse '{\"b\": [1, 2.5, null, true], \"a\": \"\\\\u00e9\"}'))")
        XCTAssertEqual(printed, "{\"b\":[1,2.5,null,true],\"a\":\"é\"}\n")
        XCTAssertEqual(failure("x = json.parse '{bad'")?.kind, "value")
    }

    func testBareNamesInCommandPosition() {
        XCTAssertEqual(eval("type (now)"), "\"float\"")
        // In argument position a name is its value.
        XCTAssertEqual(eval("type now"), "\"function\"")
        run("t = now")
        XCTAssertEqual(eval("type t"), "\"float\"")
        run("f = len")
        XCTAssertEqual(eval("type f"), "\"function\"")
    }
}
