import Foundation
import NetKit

/// Step mode (`step on`, `--step`): before each protocol step NetScript is about to send, the
/// terminal shows the step, what it means and what reply to expect, and waits for a key:
/// Enter sends it, `c` sends the rest of the command without stopping, `q` abandons the
/// command (an `interrupted` error). The wait is the transcript's gate, so every protocol
/// primitive that reports its steps before sending them (SMTP, FTP, DNS, HTTP, sockets) stops.
public final class StepMode: @unchecked Sendable {
    private let lock = NSLock()
    /// The command `c` let run to its end: no more stops until the next one.
    private var continuing: Int? = nil
    private let input: Int32, output: Int32

    init(input: Int32 = 0, output: Int32 = 2) { self.input = input; self.output = output }

    /// Why step mode cannot run here, or nil when it can (it reads keys from a terminal).
    public static func unavailableReason(input: Int32 = 0) -> String? {
        isatty(input) == 1 ? nil : "step mode needs a terminal to read Enter, c or q from (standard input is not one)"
    }

    /// Turns step mode on for `interp`'s transcript (off with nil).
    public static func enable(_ on: Bool, for interp: Interpreter) throws {
        if !on { interp.transcript.setGate(nil); return }
        if let why = unavailableReason() { throw Diagnostic("io", "step on: \(why)") }
        let mode = StepMode()
        interp.transcript.setGate { event in mode.stop(before: event) }
    }

    private func write(_ s: String) {
        _ = Array(s.utf8).withUnsafeBytes { SysCall.writeAll(output, $0) }
    }

    /// Shows the step and waits for the learner's key; false abandons the command.
    func stop(before e: TranscriptEvent) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if continuing == e.command { return true }
        var lines = ["── step: \(e.proto) is about to send"]
        lines += Transcript.render(e).split(separator: "\n", omittingEmptySubsequences: false).prefix(12).map { "   " + $0 }
        for g in ProtocolGlossary.glosses(e) { lines.append("   means:  " + g) }
        if let x = ProtocolGlossary.expectedReply(e) { lines.append("   expect: " + x) }
        lines.append("   [Enter] send   [c] continue to the end of the command   [q] abandon the command ")
        write(lines.joined(separator: "\n"))
        switch readKey() {
        case .send: write("\n"); return true
        case .continueCommand: write("c\n"); continuing = e.command; return true
        case .abandon:
            write("q\n")
            interruptFlag.store(true, ordering: .relaxed)
            return false
        }
    }

    enum Key { case send, continueCommand, abandon }

    /// One key from the terminal, unechoed and unbuffered; Ctrl-C, end of input or an error
    /// abandon.
    private func readKey() -> Key {
        var saved = termios()
        let isTerminal = tcgetattr(input, &saved) == 0
        if isTerminal {
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 1; cc[Int(VTIME)] = 0
            }
            _ = tcsetattr(input, TCSANOW, &raw)
        }
        defer { if isTerminal { _ = tcsetattr(input, TCSANOW, &saved) } }
        while true {
            if interruptFlag.load(ordering: .relaxed) { return .abandon }
            var p = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
            // A signal (Ctrl-C sets the flag checked above) or a key not ready yet: look again.
            switch SysCall.attempt({ Int(poll(&p, 1, 100)) }) {
            case .again, .done(0): continue
            case .failed: return .abandon
            case .done: break
            }
            var b: UInt8 = 0
            switch SysCall.attempt({ Glibc.read(input, &b, 1) }) {
            case .again: continue
            case .failed, .done(0): return .abandon
            case .done: break
            }
            switch b {
            case 0x0A, 0x0D, 0x20: return .send
            case UInt8(ascii: "c"), UInt8(ascii: "C"): return .continueCommand
            case UInt8(ascii: "q"), UInt8(ascii: "Q"), 0x03, 0x04: return .abandon
            default: continue
            }
        }
    }

    static func register(_ r: Interpreter) {
        r.namespace("step", summary: "Step mode: before each protocol step is sent, shows it, what it means and what reply to expect, and waits (Enter sends, c continues to the end of the command, q abandons it).")
        r.register("step", min: 0, max: 0, usage: "step", summary: "Whether step mode is on. `step on` / `step off` switch it.",
                   example: "step on") { a in .bool(a.interp.transcript.hasGate) }
        r.register("step.on", min: 0, max: 0, usage: "step on",
                   summary: "Stops before each protocol step NetScript sends (SMTP and FTP commands, DNS queries, HTTP requests, socket sends) and waits for a key: Enter sends it, c continues to the end of the command, q abandons the command (an `interrupted` error). Needs a terminal.",
                   example: "step on") { a in try StepMode.enable(true, for: a.interp); return .nil }
        r.register("step.off", min: 0, max: 0, usage: "step off", summary: "Sends protocol steps without stopping again.",
                   example: "step off") { a in try StepMode.enable(false, for: a.interp); return .nil }
    }
}
