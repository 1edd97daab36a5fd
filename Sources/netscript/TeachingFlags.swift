import Foundation
import NetScript
import NetKit

/// The teaching options of the command line (`--step`, `--record FILE`, `--replay FILE`),
/// kept apart from the rest of the argument parsing: `consume` takes them out of the
/// arguments, `apply` sets them up once the interpreter exists, and `replayFailure` turns a
/// run that differed from its recording into a `replay` error.
enum TeachingFlags {
    nonisolated(unsafe) static var step = false
    nonisolated(unsafe) static var record: String? = nil
    nonisolated(unsafe) static var replay: String? = nil

    /// Takes `arg` (and its value from `rest`) when it is a teaching option.
    static func consume(_ arg: String, _ rest: inout [String]) -> Bool {
        switch arg {
        case "--step": step = true; return true
        case "--record", "--replay":
            guard !rest.isEmpty else { usageError("\(arg) needs a FILE (the recording)") }
            if arg == "--record" { record = rest.removeFirst() } else { replay = rest.removeFirst() }
            return true
        default: return false
        }
    }

    static let usage = """
      --step        stop before each protocol step is sent: Enter sends it, c continues, q abandons (needs a terminal)
      --record FILE record every byte each connection exchanges (JSON lines) while the script runs
      --replay FILE run with no network: each connection is answered from FILE, the first difference is an error
    """

    static func usageError(_ message: String) -> Never {
        FileHandle.standardError.write("netscript: \(message)\n(see netscript --help)\n".data(using: .utf8)!)
        exit(2)
    }

    /// Sets the options up on `interp`; a problem is a usage error (exit 2).
    static func apply(to interp: Interpreter) {
        if record != nil && replay != nil { usageError("--record and --replay cannot be used together") }
        do {
            if let record { WireRecorder.shared = try WireRecorder(path: record) }
            if let replay { WireReplay.shared = try WireReplay(path: replay) }
        } catch let e as SocketError {
            usageError(e.message)
        } catch {
            usageError("\(error)")
        }
        if step {
            do { try StepMode.enable(true, for: interp) } catch let d as Diagnostic {
                usageError("--step: \(d.message.replacingOccurrences(of: "step on: ", with: ""))")
            } catch { exit(2) }
        }
    }

    /// Under `--replay`, the error a failed run reports: the first step that differed from
    /// the recording (where the script's own error happened), or the error itself.
    static func replayError(for error: Error) -> Error {
        guard !(error is ExitSignal), let replay = WireReplay.shared, let why = replay.failureAfterError else { return error }
        return Diagnostic("replay", why, location: (error as? Diagnostic)?.location)
    }

    /// Under `--replay`, a run that ended well but differed from the recording on the way
    /// (an error it caught): that difference, as a diagnostic; nil otherwise.
    static func replayFailureAfterSuccess() -> Diagnostic? {
        guard let why = WireReplay.shared?.failure else { return nil }
        return Diagnostic("replay", why)
    }
}
