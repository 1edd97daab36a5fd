import Foundation
import XCTest
@testable import NetScript

/// A small fixed-seed generator, so every run fuzzes the same programs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random and mutated programs must end in a value or a Diagnostic: never a crash, a hang,
/// or any other kind of error. Deep nesting is a syntax error, runaway recursion a
/// recursion error, not a stack overflow.
final class FuzzTests: XCTestCase {
    static let vocabulary: [String] = [
        "x", "y", "f", "print", "len", "json", "json.parse", "parse", "split", "sort", "_", "e", "m", "xs",
        "if", "else", "while", "for", "in", "fn", "return", "break", "continue", "try", "catch", "finally",
        "import", "global", "true", "false", "nil", "and", "or", "not",
        "0", "1", "42", "-1", "3.5", "1e3", "0x1f", "9223372036854775807", "\"s\"", "\"a{x}b\"", "'raw'", "b\"\\x00\"",
        "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "+", "-", "*", "/", "//", "%", "**", "=", "+=", "==", "!=",
        "<", "<=", ">", ">=", "|", "!", "&&", "||", "...", "key:", "\n", "\n", " ", "#c\n", "\"", "'", "\\", "@", "$", "é",
    ]

    /// Names and characters whose programs are only parsed, not run: loops, functions and
    /// I/O could run for long or touch the system; `*` and padding can build huge values.
    static let unsafeToRun = ["while", "for", "fn", "sleep", "read", "input", "exit", "import", "write", "lines",
                              "range", "*", "pad", "format", "env", "help", "trace", "stdin", "\\"]

    static func corpus() -> [String] {
        let dir = NetScriptBinary.scriptsDir
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".net") }.sorted().compactMap {
            try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)
        }
    }

    /// Parses (and, when safe, runs) one program; fails the test on anything but a value or a Diagnostic.
    func check(_ text: String, run: Bool, _ stats: inout (parsed: Int, ran: Int, diagnostics: Int)) {
        let source = Source(name: "fuzz", text: text)
        do {
            _ = try Parser.parse(source)
            stats.parsed += 1
        } catch is Diagnostic {
            stats.diagnostics += 1
            return
        } catch {
            XCTFail("parser threw \(error) for:\n\(text)")
            return
        }
        guard run, !FuzzTests.unsafeToRun.contains(where: { text.contains($0) }) else { return }
        let interp = Interpreter(output: Output(fd: 1), errorSink: { _ in })
        interp.output.capture = { _ in }
        interp.maxCallDepth = 100
        do {
            _ = try interp.run(source)
            stats.ran += 1
        } catch is Diagnostic {
            stats.diagnostics += 1
        } catch {
            XCTFail("interpreter threw \(error) for:\n\(text)")
        }
    }

    func mutate(_ text: String, _ rng: inout SplitMix64) -> String {
        var b = Array(text.utf8)
        let edits = Int.random(in: 1...4, using: &rng)
        for _ in 0..<edits {
            if b.isEmpty { b = Array(FuzzTests.vocabulary.randomElement(using: &rng)!.utf8); continue }
            let i = Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: b = Array(b[..<i])                                               // truncate
            case 1: b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...8, using: &rng)))   // delete
            case 2: b.insert(contentsOf: Array(FuzzTests.vocabulary.randomElement(using: &rng)!.utf8), at: i)
            case 3: b[i] = UInt8.random(in: 0x20...0x7E, using: &rng)               // replace a byte
            case 4:                                                                   // duplicate a span
                let j = min(b.count, i + Int.random(in: 1...30, using: &rng))
                b.insert(contentsOf: Array(b[i..<j]), at: j)
            default:                                                                  // swap two bytes
                let j = Int.random(in: 0..<b.count, using: &rng)
                b.swapAt(i, j)
            }
        }
        // Byte edits can split a UTF-8 sequence; the front end only accepts valid UTF-8 text.
        return String(decoding: b, as: UTF8.self)
    }

    func testRandomTokenPrograms() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        var stats = (parsed: 0, ran: 0, diagnostics: 0)
        for _ in 0..<20_000 {
            let n = Int.random(in: 1...25, using: &rng)
            var text = ""
            for _ in 0..<n {
                text += FuzzTests.vocabulary.randomElement(using: &rng)!
                if Bool.random(using: &rng) { text += " " }
            }
            check(text, run: true, &stats)
        }
        XCTAssertGreaterThan(stats.diagnostics, 1000, "\(stats)")
        XCTAssertGreaterThan(stats.parsed, 100, "\(stats)")
        XCTAssertGreaterThan(stats.ran, 50, "\(stats)")
    }

    func testMutatedGoldenScripts() {
        let corpus = FuzzTests.corpus()
        XCTAssertGreaterThan(corpus.count, 10)
        var rng = SplitMix64(seed: 0x5EED_0002)
        var stats = (parsed: 0, ran: 0, diagnostics: 0)
        for _ in 0..<8_000 {
            var text = corpus.randomElement(using: &rng)!
            // Run single statements cut out of the scripts more often than whole scripts.
            if Int.random(in: 0..<3, using: &rng) > 0 {
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                let start = Int.random(in: 0..<lines.count, using: &rng)
                let count = Int.random(in: 1...4, using: &rng)
                text = lines[start..<min(lines.count, start + count)].joined(separator: "\n")
            }
            check(mutate(text, &rng), run: true, &stats)
        }
        XCTAssertGreaterThan(stats.ran, 200, "too few mutated programs ran: \(stats)")
        XCTAssertGreaterThan(stats.diagnostics, 100)
    }

    func syntaxKind(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try Interpreter(output: Output(fd: 1)).run(Source(name: "deep", text: text))
            XCTFail("no error for a deeply nested program", file: file, line: line)
        } catch let d as Diagnostic {
            XCTAssertEqual(d.kind, "syntax", d.message, file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testDeepNestingIsASyntaxError() {
        let n = 10_000
        syntaxKind("x = " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n))
        syntaxKind("x = " + String(repeating: "(", count: n))
        syntaxKind("x = " + String(repeating: "[", count: n) + String(repeating: "]", count: n))
        syntaxKind("x = " + String(repeating: "{", count: n))
        syntaxKind("x = " + String(repeating: "{a: ", count: n) + "1" + String(repeating: "}", count: n))
        syntaxKind(String(repeating: "if true {\n", count: n) + "print 1\n" + String(repeating: "}\n", count: n))
        syntaxKind(String(repeating: "try {\n", count: n))
        syntaxKind("x = " + String(repeating: "-", count: n) + "1")
        syntaxKind("x = " + String(repeating: "not ", count: n) + "1")
        syntaxKind("x = " + String(repeating: "fn() { ", count: n))
        syntaxKind("x = 1" + String(repeating: " ** 1", count: n))
        var s = "1"
        for _ in 0..<n { s = "\"{" + s + "}\"" }
        syntaxKind("x = " + s)
    }

    func testModerateNestingStillWorks() throws {
        let interp = Interpreter(output: Output(fd: 1))
        var printed = ""
        interp.output.capture = { printed += $0 }
        try interp.run(Source(name: "ok", text: "print " + String(repeating: "(", count: 50) + "7" + String(repeating: ")", count: 50)))
        var s = "1"
        for _ in 0..<20 { s = "\"{" + s + "}\"" }
        try interp.run(Source(name: "ok", text: "print " + s))
        XCTAssertEqual(printed, "7\n1\n")
    }

    /// Runaway recursion, on a thread with the stack size the front end gives the interpreter.
    func testRunawayRecursionIsARecursionError() {
        final class Box: @unchecked Sendable { var kind: String? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            do { try Interpreter(output: Output(fd: 1)).run(Source(name: "rec", text: "fn f(n) { f(n + 1) }\nf(0)")) }
            catch let d as Diagnostic { box.kind = d.kind }
            catch { box.kind = "\(error)" }
            done.signal()
        }
        t.stackSize = 1 << 29
        t.start()
        done.wait()
        XCTAssertEqual(box.kind, "recursion")
    }
}
