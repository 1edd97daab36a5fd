import Foundation
import NetScript

/// The teaching options of the command line (`--step`), kept apart from the rest of the
/// argument parsing: `consume` takes them out of the arguments, `apply` sets them up on
/// the interpreter once it exists.
enum TeachingFlags {
    nonisolated(unsafe) static var step = false

    /// Takes `arg` (and its value from `rest`) when it is a teaching option.
    static func consume(_ arg: String, _ rest: inout [String]) -> Bool {
        switch arg {
        case "--step": step = true; return true
        default: return false
        }
    }

    static let usage = """
      --step        stop before each protocol step is sent: Enter sends it, c continues, q abandons (needs a terminal)
    """

    /// Sets the options up on `interp`; a problem is a usage error (exit 2).
    static func apply(to interp: Interpreter) {
        if step {
            do { try StepMode.enable(true, for: interp) } catch let d as Diagnostic {
                FileHandle.standardError.write("netscript: --step: \(d.message.replacingOccurrences(of: "step on: ", with: ""))\n".data(using: .utf8)!)
                exit(2)
            } catch { exit(2) }
        }
    }
}
