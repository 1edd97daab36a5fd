import Foundation
import XCTest
@testable import NetScript

/// Every builtin and operator that takes a size, width, count or index, called with extreme
/// integers (0, ±1, ±2^31, ±2^63-1, -2^63, huge sizes…) in each position and option. Each
/// builtin's cases run as one script of `try` blocks in a child `netscript` under
/// `ulimit -v 4000000` and a timeout, so a crash or a runaway allocation names the builtin
/// (and, on failure, the cases are re-run one by one to name the call). The assertion: no
/// child dies by a signal or hangs, and every error is a Diagnostic of a known kind.
/// Arguments are drawn with a fixed seed, so every run tries the same calls.
final class BuiltinFuzzTests: XCTestCase {
    /// Builtins left out, by name or by family prefix: they touch the network or the file
    /// system, wait, read the terminal or end the process. Everything else in the registry is
    /// fuzzed, so a new builtin is covered unless it is added here.
    static let denied: [String] = [
        "connect", "unix", "send", "recv", "shutdown", "close", "udp", "sendto", "recvfrom", "listen", "accept",
        "serve", "stop", "gethostbyname", "gethostbyaddr", "getaddrinfo", "dns", "http", "tls", "ftp", "smtp", "mail", "sleep", "exit", "lines", "read", "input", "write",
        "exists", "cidr.load", "ipset.load", "mac.lookup", "trace.save", "trace.load", "step", "starttls",
        // `spawn {…}` is the spawn block (grammar.md): a map argument would read as one.
        "spawn",
    ]
    /// Built offline from their arguments, so fuzzed even though their family is denied.
    static let allowedInDeniedFamily: Set<String> = ["dns.parse", "mail.message"]

    static func isDenied(_ name: String) -> Bool {
        if allowedInDeniedFamily.contains(name) { return false }
        return denied.contains { name == $0 || name.hasPrefix($0 + ".") }
    }

    static let extremeInts = [
        "0", "1", "-1", "-2", "2147483647", "2147483648", "-2147483648", "4294967296", "9223372036854775807",
        "-9223372036854775807", "(-9223372036854775807 - 1)", "4611686018427387904", "1000000000000", "30000001",
        "65536", "256",
    ]
    static let extremeFloats = ["1e300", "-1e300", "(float \"inf\")", "(float \"nan\")", "1.5", "-0.5"]
    static let otherValues = [
        "\"a b\"", "\"abc\"", "\"\"", "\"10.0.0.1\"", "\"2001:db8::/126\"", "b\"ab\"", "[1, 2, 3]", "[]",
        "{a: 1}", "(range 10)", "nil", "true", "10.0.0.0/30", "(ip \"192.0.2.1\")", "fn(x) { x }",
        "'{}-{:>5}'", "'{:.3f}'",
    ] + ["2147483648", "9223372036854775807", "99999999999999999999", "1000000000000"].flatMap {
        ["'{:>\($0)}'", "'{:.\($0)f}'", "'{:0\($0)}'", "'{:.\($0)}'", "'{\($0)}'"]   // format templates
    }
    /// Sequences too long to make into a list (Limits.maxItems).
    static let hugeSequences = [
        "(range 9223372036854775807)", "(range (-9223372036854775807 - 1) 9223372036854775807)",
        "(range 0 1000000000000 3)", "(cidr \"::/0\")", "(cidr \"0.0.0.0/0\")", "(iprange \"::-ffff::\")",
        "(cidr subnet \"::/0\" 128)",
    ]
    /// Builtins that walk a sequence lazily, item by item, without building a list: given a
    /// huge range they run long (as a `sum` over 2^63 items does in Python; Ctrl-C stops
    /// them), so they get only the other arguments. `contains` walks sequences that have no
    /// membership test of their own (`cidr subnet`, `cidr.hosts`), like `in`.
    static let lazyWalkers: Set<String> = ["filter", "reduce", "sum", "any", "all", "unique", "contains"]

    /// Kinds an error from these calls may have.
    static let knownKinds: Set<String> = ["type", "value", "overflow", "memory", "index", "key", "zero", "name", "fail", "assert"]

    /// The calls for one builtin: random argument lists, then each position and each option
    /// given each extreme value.
    static func cases(for b: BuiltinFunction, _ rng: inout SplitMix64) -> [String] {
        let maxArity = min(b.maxArgs ?? (b.minArgs + 2), 3)
        let all = extremeInts + extremeFloats + otherValues
        var calls: [String] = []
        func call(_ args: [String], _ options: [(String, String)] = []) -> String {
            ([b.name] + args + options.map { "\($0.0): \($0.1)" }).joined(separator: " ")
        }
        func randomArgs(_ n: Int) -> [String] {
            (0..<n).map { _ in Bool.random(using: &rng) ? extremeInts.randomElement(using: &rng)! : all.randomElement(using: &rng)! }
        }
        for arity in b.minArgs...max(b.minArgs, maxArity) {
            for _ in 0..<12 { calls.append(call(randomArgs(arity))) }
            for position in 0..<arity {
                for value in extremeInts + extremeFloats {
                    for _ in 0..<2 {
                        var args = randomArgs(arity)
                        args[position] = value
                        calls.append(call(args))
                    }
                }
            }
        }
        if !lazyWalkers.contains(b.name) {
            for arity in max(b.minArgs, 1)...max(b.minArgs, 1, maxArity) {
                for position in 0..<arity {
                    for value in hugeSequences {
                        var args = randomArgs(arity)
                        args[position] = value
                        calls.append(call(args))
                    }
                }
            }
        }
        for option in b.optionNames ?? [] {
            for value in extremeInts + extremeFloats + ["\"x\"", "[]"] {
                calls.append(call(randomArgs(max(b.minArgs, 1)), [(option, value)]))
            }
        }
        return calls
    }

    /// The operators, indexing and slicing, with extreme operands on either side.
    static func operatorCases() -> [(String, [String])] {
        let values = extremeInts + extremeFloats + ["\"ab\"", "\"\"", "b\"ab\"", "[1, 2, 3]", "[]", "(range 10)", "(cidr \"10.0.0.0/30\")", "nil"]
        var groups: [(String, [String])] = []
        for op in ["*", "**", "%", "//", "/", "+", "-", "&", "^", "<", "==", "in"] {
            var calls: [String] = []
            for a in values { for b in values { calls.append("\(a) \(op) \(b)") } }
            groups.append(("operator \(op)", calls))
        }
        var calls: [String] = []
        for container in ["\"héllo\"", "b\"ab\"", "[1, 2, 3]", "[]", "(range 10)", "{a: 1}", "(cidr \"10.0.0.0/30\")", "(ip \"10.0.0.1\")"] {
            for i in extremeInts + extremeFloats {
                calls.append("\(container)[\(i)]")
                calls.append("\(container)[\(i):]")
                calls.append("\(container)[:\(i)]")
                for j in ["0", "-1", "9223372036854775807", "(-9223372036854775807 - 1)", "2147483648"] {
                    calls.append("\(container)[\(i):\(j)]")
                }
            }
        }
        for i in extremeInts + extremeFloats {
            calls.append("-\(i)")
            calls.append("!xs = [1, 2, 3]\n    xs[\(i)] = 0")
            calls.append("\(i) in range (-9223372036854775807 - 1) 9223372036854775807")
            calls.append("\(i) in range 9223372036854775807 (-9223372036854775807 - 1) -3")
            calls.append("len (range \(i))")
            calls.append("len (range \(i) 9223372036854775807)")
            calls.append("len (range (-9223372036854775807 - 1) \(i))")
            calls.append("len (range 0 \(i) -1)")
        }
        groups.append(("indexing, slicing, ranges", calls))
        return groups
    }

    /// A script that runs each call in its own `try` and prints the kind of each error. A call
    /// starting with `!` is statements, run as they are; any other is an expression.
    static func script(_ calls: [String]) -> String {
        var s = ""
        for c in calls {
            let body = c.hasPrefix("!") ? String(c.dropFirst()) : "__r = (\(c))"
            s += "try {\n    \(body)\n} catch e { print \"kind {e.kind}\" }\n"
        }
        return s + "print \"finished\"\n"
    }

    struct Outcome { var result: RunResult; var kinds: [String] }

    /// Runs a script under `ulimit -v 4000000`; `timeout -s KILL` ends a hung child for sure
    /// (a busy netscript need not heed the SIGTERM runProcess sends) with status 137.
    func runScript(_ exe: String, _ text: String, in dir: URL, name: String, seconds: Int = 25) throws -> Outcome {
        let file = dir.appendingPathComponent("\(name).net")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let r = try runProcess("/bin/sh", ["-c", "ulimit -v 4000000; exec timeout -s KILL \(seconds) \"$0\" \"$1\"", exe, file.path],
                               timeout: TimeInterval(seconds + 15))
        // 137: timeout's status after the KILL; 9: killed as part of timeout's process group.
        if r.status == 137 || r.status == 9 { return Outcome(result: RunResult(stdout: r.stdout, stderr: r.stderr, status: r.status, timedOut: true), kinds: []) }
        let kinds = r.stdout.split(separator: "\n").compactMap { $0.hasPrefix("kind ") ? String($0.dropFirst(5)) : nil }
        return Outcome(result: r, kinds: kinds)
    }

    func testBuiltinsAndOperatorsWithExtremeIntegers() throws {
        let exe = try NetScriptBinary.path()
        let interp = Interpreter(output: Output(fd: 1), errorSink: { _ in })
        var rng = SplitMix64(seed: 0x5EED_0012)
        var groups: [(String, [String])] = []
        for (name, value) in interp.registry {
            guard !BuiltinFuzzTests.isDenied(name) else { continue }
            let builtin: BuiltinFunction?
            switch value {
            case .function(let b as BuiltinFunction): builtin = b
            case .function(let ns as Namespace): builtin = ns.callable
            default: builtin = nil
            }
            guard let b = builtin else { continue }
            groups.append((name, BuiltinFuzzTests.cases(for: b, &rng)))
        }
        XCTAssertGreaterThan(groups.count, 60, "too few builtins fuzzed")
        for name in ["pad", "format", "chr", "range", "list", "sort", "reverse", "len", "split", "enumerate", "json"] {
            XCTAssertTrue(groups.contains { $0.0 == name }, "\(name) is not fuzzed")
        }
        groups += BuiltinFuzzTests.operatorCases()

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var failures: [String] = []
            var cases = 0, errors = 0
        }
        let results = Results()
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: groups.count) { i in
            let (name, calls) = groups[i]
            var failure: String? = nil
            var errors = 0
            do {
                let o = try runScript(exe, BuiltinFuzzTests.script(calls), in: dir, name: "group\(i)")
                errors = o.kinds.count
                let unknown = Set(o.kinds).subtracting(BuiltinFuzzTests.knownKinds)
                if o.result.timedOut || o.result.status != 0 || !o.result.stdout.hasSuffix("finished\n") {
                    let how = o.result.timedOut ? "hung (killed after the timeout)" : "ended with status \(o.result.status) (the signal's number if killed by one)"
                    // Find the call by bisection: keep the half of the calls that still fails.
                    func fails(_ part: ArraySlice<String>) throws -> Bool {
                        let o = try runScript(exe, BuiltinFuzzTests.script(Array(part)), in: dir, name: "group\(i)-part", seconds: 10)
                        return o.result.timedOut || o.result.status != 0
                    }
                    var part = calls[...]
                    while part.count > 1 {
                        let half = part.prefix(part.count / 2)
                        part = try fails(half) ? half : part.dropFirst(half.count)
                    }
                    let culprit = try part.first.map { try fails(part) ? $0 : "?" } ?? "?"
                    failure = "\(name): \(how) at `\(culprit)`; stderr: \(o.result.stderr.prefix(600))"
                } else if !unknown.isEmpty && name != "fail" {   // fail raises the kind it is given
                    failure = "\(name): errors of unexpected kinds \(unknown.sorted())"
                }
            } catch {
                failure = "\(name): \(error)"
            }
            results.lock.lock()
            results.cases += calls.count
            results.errors += errors
            if let failure { results.failures.append(failure) }
            results.lock.unlock()
        }
        for f in results.failures.sorted() { XCTFail(f) }
        XCTAssertGreaterThan(results.cases, 10_000)
        XCTAssertGreaterThan(results.errors, results.cases / 4, "most extreme calls should be refused")
        print("BuiltinFuzzTests: \(groups.count) groups, \(results.cases) calls, \(results.errors) errors, \(Int(Date().timeIntervalSince(start))) s")
    }
}
