import Foundation
import NetKit
import CEditLine
import NetScript

nonisolated(unsafe) private var completionInterp: Interpreter? = nil
nonisolated(unsafe) private var completionCandidates: [String] = []
nonisolated(unsafe) private var completionIndex = 0

/// libedit asks for one candidate at a time; state 0 starts a new round.
private let completionGenerator: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { _, state in
    if state == 0 { completionIndex = 0 }
    guard completionIndex < completionCandidates.count else { return nil }
    defer { completionIndex += 1 }
    return strdup(completionCandidates[completionIndex])
}

private let attemptedCompletion: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, start, _ in
    guard let text, let interp = completionInterp else { return nil }
    let prefix = String(cString: text)
    var line = ""
    // libedit counts `start` in characters (its line is wide), the buffer is UTF-8.
    if let buf = rl_line_buffer {
        line.unicodeScalars.append(contentsOf: String(cString: buf).unicodeScalars.prefix(Int(start)))
        line += prefix
    }
    rl_completion_append_character = Int32(UInt8(ascii: " "))
    if let (quote, typed) = openString(line) {
        // Inside a string: file names. A directory ends in `/` (more to type), a file
        // closes the string, as bash and zsh do for a quoted word.
        let matches = fileCompletions(typed)
        // libedit replaces only its own word (the text after the last space or quote).
        let drop = typed.utf8.count - prefix.utf8.count
        completionCandidates = matches.map { String(decoding: $0.utf8.dropFirst(max(0, drop)), as: UTF8.self) }
        if matches.count == 1 {
            rl_completion_append_character = matches[0].hasSuffix("/") ? 0 : Int32(quote)
        }
    } else {
        completionCandidates = interp.completions(prefix: prefix, line: line)
    }
    return rl_completion_matches(text, completionGenerator)
}

/// When the text ends inside a string literal: its quote character and what is typed of it
/// so far. The lexer decides, so escapes and `{…}` interpolations count as they do when
/// the line runs.
func openString(_ line: String) -> (UInt8, String)? {
    do {
        _ = try Lexer.tokenize(Source(name: "<repl>", text: line))
        return nil
    } catch let d as Diagnostic {
        // The location's column counts Unicode scalars on the (only) line.
        guard d.message.hasPrefix("unterminated string"), let loc = d.location, loc.line == 1 else { return nil }
        let scalars = Array(line.unicodeScalars)
        let open = loc.column - 1
        guard open >= 0, open < scalars.count, scalars[open] == "\"" || scalars[open] == "'" else { return nil }
        var typed = ""
        typed.unicodeScalars.append(contentsOf: scalars[(open + 1)...])
        // A string already holding an interpolation or an escape is not a plain path.
        if typed.contains("{") || typed.contains("\\") || typed.contains("\n") { return nil }
        return (UInt8(scalars[open].value), typed)
    } catch {
        return nil
    }
}

/// The paths that complete `typed`: entries of its directory starting with its last part
/// (hidden ones only when that part starts with a dot), directories with a trailing `/`.
func fileCompletions(_ typed: String) -> [String] {
    let slash = typed.lastIndex(of: "/")
    let dirPart = slash.map { String(typed[...$0]) } ?? ""
    let base = slash.map { String(typed[typed.index(after: $0)...]) } ?? typed
    var dir = dirPart.isEmpty ? "." : dirPart
    if dir.hasPrefix("~") { dir = (dir as NSString).expandingTildeInPath }
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
    return names.filter { $0.hasPrefix(base) && (base.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { name in
        var isDir: ObjCBool = false
        let full = (dir as NSString).appendingPathComponent(name)
        let directory = FileManager.default.fileExists(atPath: full, isDirectory: &isDir) && isDir.boolValue
        return dirPart + name + (directory ? "/" : "")
    }
}

/// Reads one character for libedit. A Ctrl-C while waiting makes it report end of input,
/// which the loop tells from a real Ctrl-D by the interrupt flag. Multi-byte UTF-8 is
/// decoded here, since libedit takes each value returned as one character.
private let interruptibleGetc: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { _ in
    func byte() -> Int32 {
        var b: UInt8 = 0
        while true {
            switch SysCall.attempt({ read(0, &b, 1) }) {
            case .done(1): return Int32(b)
            case .again:   // a signal: Ctrl-C abandons the line, another one reads on
                if interruptFlag.load(ordering: .relaxed) { return -1 }
            default: return -1
            }
        }
    }
    let first = byte()
    guard first >= 0xC0 else { return first }
    let extra = first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : 1
    var scalar = first & (0x3F >> Int32(extra))
    for _ in 0..<extra {
        let next = byte()
        guard next >= 0 else { return -1 }
        scalar = (scalar << 6) | (next & 0x3F)
    }
    return scalar
}

/// The interactive loop: libedit line editing, history shared through a file (every entry
/// appended as it is entered), completion from the builtins registry, the session's names and
/// file names inside strings, multi-line input while a block, bracket or string is open, and
/// the value of each expression shown (long tables cut: `show` prints them whole).
final class REPL {
    let interp: Interpreter
    let color: Bool
    let historyFile: HistoryFile
    /// The rows a table shows before it is cut.
    let maxRows = 50
    /// This session's entries in order, whether each ran without an error, and whether it
    /// used `history` (left out of a saved script, where `history` does not exist).
    var entries: [(code: String, ok: Bool, usedHistory: Bool)] = []
    var usedHistory = false

    init(interp: Interpreter, color: Bool) {
        self.interp = interp
        self.color = color
        let env = ProcessInfo.processInfo.environment
        let path = env["NETSCRIPT_HISTORY"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.netscript_history")
        historyFile = HistoryFile(path: path, limit: 2000)
        registerCommands()
    }

    /// The commands that only make sense at the prompt.
    func registerCommands() {
        interp.register("history", min: 0, max: 0,
                        usage: "history",
                        summary: "REPL only: lists this session's entries, numbered (one that failed is marked # failed).",
                        example: "history") { [unowned self] a in
            usedHistory = true
            var out = ""
            for (i, e) in entries.enumerated() {
                let number = String(i + 1)
                var text = e.code.replacingOccurrences(of: "\n", with: "\n      ")
                if !e.ok { text += "   # failed" }
                out += String(repeating: " ", count: max(0, 4 - number.count)) + number + "  " + text + "\n"
            }
            a.interp.output.write(out)
            return .nil
        }
        interp.namespace("history", summary: "REPL only: this session's entries (history), and history save FILE to keep them as a script")
        interp.register("history.save", min: 1, max: 1,
                        usage: "history save FILE",
                        summary: "REPL only: writes this session's entries that ran without an error, in order (a multi-line entry whole), to FILE as a script that `netscript FILE` runs again.",
                        example: "history save \"session.net\"") { [unowned self] a in
            usedHistory = true
            let path = (try a.string(0) as NSString).expandingTildeInPath
            let kept = entries.filter { $0.ok && !$0.usedHistory }.map(\.code)
            let stamp = ISO8601DateFormatter().string(from: Date())
            let text = "# saved from the netscript REPL at \(stamp)\n" + kept.map { $0 + "\n" }.joined()
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw Diagnostic("io", "history save: cannot write \(path): \((error as NSError).localizedDescription)")
            }
            a.interp.output.write("saved \(kept.count) entr\(kept.count == 1 ? "y" : "ies") to \(path)", newline: true)
            return .nil
        }
        interp.register("show", min: 1, max: 1, options: ["rows"],
                        usage: "show VALUE [rows: N]",
                        summary: "REPL only: shows a value as the prompt does, but every row of a table (the prompt cuts tables after \(maxRows) rows), or the first N.",
                        example: "show (dns.axfr \"example.test\" server: \"127.0.0.1:5300\")") { a in
            let rows = try a.optionNumber("rows").map { Int(max(0, min($0, Double(Int.max / 2)))) } ?? Int.max
            a.interp.output.write(Display.show(a[0], maxRows: rows), newline: true)
            return .nil
        }
    }

    func run() -> Int32 {
        completionInterp = interp
        rl_readline_name = UnsafePointer(strdup("netscript"))
        rl_catch_signals = 0
        rl_getc_function = interruptibleGetc
        rl_attempted_completion_function = attemptedCompletion
        rl_completion_entry_function = completionGenerator
        using_history()
        stifle_history(Int32(historyFile.limit))
        historyFile.trim()
        _ = read_history(historyFile.path)
        print("NetScript 0.1 — `help` lists commands, `help \"grammar\"` the language, Ctrl-D exits.")

        var buffer = ""
        while true {
            interruptFlag.store(false, ordering: .relaxed)
            let prompt = buffer.isEmpty ? "ns> " : "... "
            guard let cline = withoutInterpreterLock({ readline(prompt) }) else {   // tasks run meanwhile
                if interruptFlag.load(ordering: .relaxed) {
                    // Ctrl-C at the prompt abandons the line (and any unfinished block).
                    interruptFlag.store(false, ordering: .relaxed)
                    buffer = ""
                    print("")
                    continue
                }
                print("")
                return 0
            }
            let line = String(cString: cline)
            free(cline)
            if interruptFlag.load(ordering: .relaxed) {
                interruptFlag.store(false, ordering: .relaxed)
                buffer = ""
                continue
            }
            buffer += buffer.isEmpty ? line : "\n" + line
            if buffer.trimmingCharacters(in: .whitespaces).isEmpty { buffer = ""; continue }
            if Interpreter.isIncomplete(buffer) { continue }
            add_history(buffer)
            historyFile.append(buffer)
            let code = buffer
            buffer = ""
            if let status = evaluate(code) { return status }
        }
    }

    /// Runs one entry; returns an exit status when the entry ended the session (`exit`).
    func evaluate(_ code: String) -> Int32? {
        usedHistory = false
        var ok = false
        defer {
            entries.append((code, ok, usedHistory))
            interruptFlag.store(false, ordering: .relaxed)
        }
        do {
            let v = try interp.run(Source(name: "<repl>", text: code), showValues: true)
            interp.output.flush()
            ok = true
            if interp.lastWasExpression, v != .nil {
                print(Display.show(v, maxRows: maxRows))
            }
        } catch let e as ExitSignal {
            interp.output.flush()
            return e.status
        } catch let d as Diagnostic where d.kind == "interrupted" {
            // Ctrl-C is what the user did, not a fault in the line: one line says it.
            interp.output.flush()
            FileHandle.standardError.write("interrupted\n".data(using: .utf8)!)
        } catch let d as Diagnostic {
            interp.output.flush()
            FileHandle.standardError.write((d.render(color: color) + "\n").data(using: .utf8)!)
        } catch {
            interp.output.flush()
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
        }
        return nil
    }
}
