import XCTest
@testable import NetScript

/// Tests of the interpreter in-process: a fresh interpreter for each test, its output captured
/// in `printed`, and a script run as `run` (its value), `out` (what it printed) or `failure`
/// (the diagnostic it must raise).
class InterpreterTestCase: XCTestCase {
    var interp: Interpreter!
    var printed = ""

    override func setUp() {
        interp = Interpreter(output: Output(fd: 1))
        printed = ""
        interp.output.capture = { [unowned self] in self.printed += $0 }
    }

    @discardableResult
    func run(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> Value? {
        do { return try interp.run(Source(name: "test", text: code)) }
        catch { XCTFail("\(code): \(error)", file: file, line: line); return nil }
    }

    /// What the script printed (from its start).
    func out(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        printed = ""
        run(code, file: file, line: line)
        return printed
    }

    func failure(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
        do { _ = try interp.run(Source(name: "test", text: code)); XCTFail("no error from: \(code)", file: file, line: line) }
        catch let d as Diagnostic { return d }
        catch { XCTFail("\(error)", file: file, line: line) }
        return nil
    }
}
