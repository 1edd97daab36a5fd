import Foundation
import NetScript

/// Runs a program — a file, `-e` code or standard input, one path for all three — or the
/// REPL, on a thread with a large stack so deep recursion in a script is an error the
/// interpreter reports rather than a crash. Returns the exit status.
struct ScriptRunner {
    let interp: Interpreter
    let color: Bool

    enum Program {
        case file(String)
        case code(String)
        case standardInput
        case repl
    }

    func run(_ program: Program) -> Int32 {
        if case .repl = program {
            interp.isInteractive = true
            let repl = REPL(interp: interp, color: color)
            return runOnBigStack { repl.run() }
        }
        return runOnBigStack {
            do {
                switch program {
                case .file(let path): try interp.runFile(path: path)
                case .code(let text): try interp.run(Source(name: "-e", text: text))
                case .standardInput:
                    let data = FileHandle.standardInput.readDataToEndOfFile()
                    guard let text = String(data: data, encoding: .utf8) else {
                        throw Diagnostic("io", "standard input is not UTF-8 text")
                    }
                    try interp.run(Source(name: "<stdin>", text: text))
                case .repl: break
                }
            } catch {
                return report(error)
            }
            interp.output.flush()
            if let d = TeachingFlags.replayFailureAfterSuccess() { return report(d) }
            return 0
        }
    }

    /// Prints an error as `FILE:LINE:COL: error[KIND]: …` and gives its exit status:
    /// 2 for syntax and usage errors, 130 after Ctrl-C, 1 otherwise, or what `exit N` said.
    func report(_ error: Error) -> Int32 {
        interp.output.flush()
        switch TeachingFlags.replayError(for: error) {
        case let e as ExitSignal: return e.status
        case let d as Diagnostic:
            FileHandle.standardError.write((d.render(color: color) + "\n").data(using: .utf8)!)
            return d.isUsageError ? 2 : (d.kind == "interrupted" ? 130 : 1)
        default:
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            return 1
        }
    }

    private func runOnBigStack(_ body: @escaping () -> Int32) -> Int32 {
        final class Status: @unchecked Sendable { var value: Int32 = 0 }
        let status = Status()
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            interpreterThread = pthread_self()
            status.value = body()
            done.signal()
        }
        t.stackSize = 1 << 29
        t.start()
        done.wait()   // the semaphore orders the write above before this read
        return status.value
    }
}
