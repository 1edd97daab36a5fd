import XCTest
@testable import NetScript

/// The evaluator's fast paths (ints read in place, calls of top-level functions through the
/// globals' function table, lent frames, function bodies run as value chains) give exactly the
/// results and errors of the general paths, including every edge where they fall back.
final class FastPathTests: InterpreterTestCase {
    func testCompoundAssignOverflowIsExactAndLocated() {
        // A global, then a local, with a constant and with a variable on the right.
        for (code, line) in [("x = 9223372036854775807\nx += 1", 2), ("fn f() { x = 9223372036854775807\n x += 1 }\nf()", 2),
                             ("x = -9223372036854775807\ny = 2\nx -= y", 3), ("fn f(y) { x = -9223372036854775807\n x -= y }\nf(2)", 2)] {
            let d = failure(code)
            XCTAssertEqual(d?.kind, "overflow", code)
            XCTAssertEqual(d?.location?.line, line, code)
        }
        XCTAssertEqual(failure("x = 9223372036854775807\nx += 1")?.message,
                       failure("x = 9223372036854775807\nx = x + 1")?.message)
    }

    func testCompoundAssignFallsBackForOtherTypes() {
        XCTAssertEqual(out("s = \"a\"\ns += \"b\"\nprint s\nf = 1.5\nf += 1\nprint f\nl = [1]\nl += [2]\nprint l"), "ab\n2.5\n[1, 2]\n")
        XCTAssertEqual(failure("s = \"a\"\ns += 1")?.kind, "type")
        let d = failure("print 1\nq += 1")
        XCTAssertEqual(d?.kind, "name")
        XCTAssertEqual(d?.location?.line, 2)
    }

    func testCompoundAssignReadsTheVariableBeforeTheValue() {
        // The value changes the variable: the old value is the one added to, as without fast path.
        XCTAssertEqual(out("x = 1\nfn bump() { global x\n x = 100\n 5 }\nx += (bump)\nprint x"), "6\n")
        XCTAssertEqual(out("x = 1\nfn s() { global x\n x = \"str\"\n 5 }\nx += (s)\nprint x"), "6\n")
    }

    func testComparisonsFallBack() {
        XCTAssertEqual(out("a = 1.5\nif a < 2 { print \"lt\" }\nb = \"x\"\nprint (b == \"x\")\nprint (a == 1)"), "lt\ntrue\nfalse\n")
        let d = failure("a = \"s\"\nwhile a < 3 { a = 1 }")
        XCTAssertEqual(d?.kind, "type")
        XCTAssertEqual(d?.location?.line, 2)
    }

    func testArithmeticOverflowInExpressions() {
        let d = failure("fn f(n) { return n * n }\nf(4294967296)")
        XCTAssertEqual(d?.kind, "overflow")
        XCTAssertEqual(d?.location?.line, 1)
        XCTAssertEqual(out("fn f(n) { return n * n }\nprint (f 3037000499)"), "9223372030926249001\n")
    }

    func testRecursionDepthErrorAndRecovery() {
        interp.maxCallDepth = 300
        let d = failure("fn f(n) { return f(n + 1) }\nf(0)")
        XCTAssertEqual(d?.kind, "recursion")
        XCTAssertEqual(d?.location?.line, 1)
        // Frames lent during the failed recursion are clean again.
        XCTAssertEqual(out("fn fib(n) { if n < 2 { return n }\n return fib(n - 1) + fib(n - 2) }\nprint (fib 20)"), "6765\n")
    }

    func testRaisingTheDepthLimitAfterCallsStillWorks() {
        interp.maxCallDepth = 50
        XCTAssertEqual(out("fn d(n) { if n == 0 { return 0 }\n return 1 + d(n - 1) }\nprint (d 40)"), "40\n")
        interp.maxCallDepth = 500
        XCTAssertEqual(out("print (d 450)"), "450\n")
    }

    func testRebindingAFunctionDuringItsOwnCall() {
        let code = """
        fn f(n) {
            global f
            f = 5
            return n + 1
        }
        print (f 1)
        print f
        fn g(n) { return n * 2 }
        print (g 4)
        g = "no longer a function"
        """
        XCTAssertEqual(out(code), "2\n5\n8\n")
        let d = failure("g 1")
        XCTAssertEqual(d?.kind, "type")
    }

    func testArityAndDefaultsThroughTheFastCall() {
        XCTAssertEqual(failure("fn f(a) { a }\nf(1, 2)")?.kind, "type")
        XCTAssertEqual(out("fn f(a, b = 10) { a + b }\nprint (f 1)\nprint (f 1 2)"), "11\n3\n")
        XCTAssertEqual(out("fn f(...xs) { len xs }\nprint (f 1 2 3)"), "3\n")
    }

    func testClosuresStillCaptureTheirFrames() {
        let code = """
        fn counter() {
            n = 0
            fn inc(k) { n += k
                return n }
            return inc
        }
        c = counter()
        c 1
        print (c 1)
        fn outer(x) { fn inner(y) { return x + y }
            return inner(1) }
        print (outer 41)
        """
        XCTAssertEqual(out(code), "2\n42\n")
    }

    func testFunctionBodiesAsValueChains() {
        // Guards, assignments, an implicit last expression, a bare return, an empty body.
        let code = """
        fn sign(n) {
            if n < 0 { return -1 }
            if n == 0 { return }
            m = n * 2
            m > 0
        }
        fn empty() { }
        print (sign -3) (sign 0) (sign 4) (empty)
        """
        XCTAssertEqual(out(code), "-1 nil true nil\n")
        let d = failure("fn f(n) {\n  x = n + \"a\"\n  return x\n}\nf(1)")
        XCTAssertEqual(d?.kind, "type")
        XCTAssertEqual(d?.location?.line, 2)
    }

    func testUnaryBuiltinsHaveOneBodyForEveryPath() throws {
        // Compiled one-argument calls, piped calls, and calls from Swift (map, sort key:) all
        // reach the same one-value body; other forms reach the general one.
        XCTAssertEqual(out("print 1\nprint 1 2\nprint 1 2 sep: \"-\"\n[1, 2] | print\nprint (len (range 10)) (type 1.5) (str 2)"),
                       "1\n1 2\n1-2\n[1, 2]\n10 float 2\n")
        for name in ["print", "len", "type", "str"] {
            guard case .function(let c)? = interp.globals[name] else { return XCTFail(name) }
            XCTAssertNotNil(c.unary, name)
        }
        printed = ""
        _ = try interp.call(interp.globals["print"]!, [.string("direct")])
        XCTAssertEqual(printed, "direct\n")
        XCTAssertEqual(Value.repr(try interp.call(interp.globals["len"]!, [.list([.int(1), .int(2)])])), "2")
        let d = failure("x = 1\nlen 5")
        XCTAssertEqual(d?.message, "len: an int has no length")
        XCTAssertEqual(d?.location?.line, 2)
        XCTAssertEqual(failure("len [1] x: 1")?.kind, "type")
        XCTAssertEqual(failure("len 1 2")?.kind, "type")
    }

    func testArgumentsComputedInPlaceGiveTheGeneralResults() {
        // Constants, variables and int arithmetic as arguments of a top-level function; a
        // name in command position holding a command still runs it; other types fall back.
        let code = """
        fn two(a, b) { return [a, b] }
        fn one(a) { return a }
        fn seven() { return 7 }
        k = 5
        fn use(n) {
            x = seven
            return [two(n - 1, k * 2), one("s"), one(seven), one(n + 0.5), two(x, n)]
        }
        print (use 3)
        print (one k) (one seven)
        """
        XCTAssertEqual(out(code), "[[2, 10], \"s\", 7, 3.5, [7, 3]]\n5 7\n")
        let d = failure("fn one(a) { return a }\nfn g(n) {\n  return one(n * n)\n}\ng(4294967296)")
        XCTAssertEqual(d?.kind, "overflow")
        XCTAssertEqual(d?.location?.line, 3)
        let e = failure("fn one(a) { return a }\nfn g(n) {\n  return one(n + 1)\n}\ng(\"s\")")
        XCTAssertEqual(e?.kind, "type")
        XCTAssertEqual(e?.location?.line, 3)
        XCTAssertEqual(failure("fn one(a) { return a }\none(nothere)")?.kind, "name")
    }

    func testRebindingWhileRecursing() {
        // The running function's name is rebound (freeing it) halfway down a recursion: the
        // calls already running finish with their own code, later calls reach the new value.
        let code = """
        fn down(n) {
            global down
            if n == 0 { return 0 }
            if n == 3 { down = fn(m) { return 100 } }
            return 1 + down(n - 1)
        }
        print (down 6)
        print (down 6)
        """
        XCTAssertEqual(out(code), "104\n100\n")
    }

    func testGuardsFallBackForOtherTypes() {
        let code = """
        fn f(n) {
            if n < 2 { return n }
            return f(n - 1) + f(n - 2)
        }
        print (f 10) (f 2.5) (f 1.0)
        """
        XCTAssertEqual(out(code), "55 2.0 1.0\n")
        let d = failure("fn f(n) {\n  if n < 2 { return n }\n  return 0\n}\nf(\"s\")")
        XCTAssertEqual(d?.kind, "type")
        XCTAssertEqual(d?.location?.line, 2)
    }
}
