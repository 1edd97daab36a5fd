import Foundation
import NetScript
import NetKit

/// The teaching options of the command line (`--step`, `--record FILE`, `--replay FILE`, read
/// by Options.swift): `apply` sets them up once the interpreter exists, and the replay checks
/// turn a run that differed from its recording into a `replay` error.
enum TeachingFlags {
    static func usageError(_ message: String) -> Never {
        FileHandle.standardError.write("netscript: \(message)\n(see netscript --help)\n".data(using: .utf8)!)
        exit(2)
    }

    /// Sets the options up on `interp`; a problem is a usage error (exit 2).
    static func apply(_ options: CommandLineOptions, to interp: Interpreter) {
        do {
            if let record = options.record { WireRecorder.shared = try WireRecorder(path: record) }
            if let replay = options.replay { WireReplay.shared = try WireReplay(path: replay) }
        } catch let e as SocketError {
            usageError(e.message)
        } catch {
            usageError("\(error)")
        }
        if options.step {
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
