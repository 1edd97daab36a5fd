import Foundation
import NetKit

/// `trace`: protocol steps shown live (`trace on`), again (`trace show`), as a sequence chart
/// (`trace diagram`), with what each means (`trace explain`), saved and loaded (`trace save`,
/// `trace load`). The transcript itself is NetKit's (Transcript/).
enum TraceBuiltins {
    /// The steps `trace diagram`/`trace explain` show: the last command's by default, the
    /// last N with a number, the whole session's with "all".
    static func traceSelection(_ a: Args, _ what: String) throws -> [TranscriptEvent] {
        let t = a.interp.transcript
        guard a.count > 0 else { return t.lastCommandSteps }
        // `trace explain all`: the bare word is the builtin `all`, taken as the word.
        if case .function(let f) = a[0], f.name == "all" { return t.steps }
        // `trace explain all`: the bare word is the builtin `all`, taken as the word.
        if case .function(let f) = a[0], f.name == "all" { return t.steps }
        if case .string(let s) = a[0] {
            guard s == "all" else { throw Diagnostic.value("\(what): takes a number of steps or \"all\", not \"\(s)\"") }
            return t.steps
        }
        return Array(t.steps.suffix(max(0, try a.int(0))))
    }

    /// The terminal's width, or 100 columns without a terminal.
    static func terminalColumns() -> Int {
        var ws = winsize()
        if isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col >= 40 { return Int(ws.ws_col) }
        return 100
    }

    static func drawDiagram(_ a: Args, _ steps: [TranscriptEvent]) throws -> Value {
        let svg = try a.optionString("svg"), html = try a.optionString("html")
        if svg != nil && html != nil { throw Diagnostic.value("trace diagram: give svg: or html:, not both") }
        if let path = svg ?? html {
            let text = svg != nil ? TranscriptDiagram.svg(steps) : TranscriptDiagram.html(steps)
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) }
            catch { throw Diagnostic("io", "trace diagram: cannot write \(path) (\((error as NSError).localizedDescription))") }
            return .nil
        }
        let width = try a.optionInt("width") ?? terminalColumns()
        guard width >= 40, width <= 400 else { throw Diagnostic.value("trace diagram: width: must be between 40 and 400") }
        a.interp.output.write(TranscriptDiagram.render(steps, width: width) + "\n")
        return .nil
    }

    static func explainSteps(_ steps: [TranscriptEvent], _ out: Output) {
        for (e, glosses) in zip(steps, ProtocolGlossary.glossesInContext(steps)) {
            out.write(Transcript.render(e) + "\n")
            for gloss in glosses { out.write("   ↳ \(gloss)\n") }
        }
    }

    static func register(_ r: Interpreter) {
        r.namespace("trace", summary: "Shows each protocol step as it happens (C:/S: lines, DNS sections, HTTP heads, socket bytes); trace show, trace diagram (a sequence chart) and trace explain (what each step means) replay them.")
        r.register("trace", min: 0, max: 0, usage: "trace", summary: "Whether tracing is on. `trace on` / `trace off` switch it.",
                   example: "trace on") { a in .bool(a.interp.transcript.isLive) }
        r.register("trace.on", min: 0, max: 0, usage: "trace on", summary: "Shows every protocol step live on standard error, secrets masked.",
                   example: "trace on") { a in a.interp.transcript.isLive = true; return .nil }
        r.register("trace.off", min: 0, max: 0, usage: "trace off", summary: "Stops showing protocol steps (they are still recorded).",
                   example: "trace off") { a in a.interp.transcript.isLive = false; return .nil }
        r.register("trace.steps", min: 0, max: 1, usage: "trace steps [LAST_N]", summary: "The recorded protocol steps as records (proto, direction, text).",
                   example: "for s in trace steps 10 { print s.direction s.text }") { a in
            var steps = a.interp.transcript.steps
            if a.count > 0 { steps = Array(steps.suffix(max(0, try a.int(0)))) }
            return .list(steps.map { e in
                .native(RecordObject("step", ["proto": .string(e.proto), "direction": .string(e.direction.rawValue), "text": .string(e.text)]))
            })
        }
        r.register("trace.show", min: 0, max: 1, usage: "trace show [LAST_N]", summary: "Prints the recorded protocol steps again (C:/S: lines).",
                   example: "trace show 20") { a in
            var steps = a.interp.transcript.steps
            if a.count > 0 { steps = Array(steps.suffix(max(0, try a.int(0)))) }
            for e in steps { a.interp.output.write(Transcript.render(e) + "\n") }
            return .nil
        }
        r.register("trace.diagram", min: 0, max: 1, options: ["width", "svg", "html"], usage: "trace diagram [LAST_N | all] [width: COLUMNS] [svg: FILE | html: FILE]",
                   summary: "Draws the last command's steps (or the last N, or `all` of the session's) as a sequence chart: the client on the left, one lane per server (a dns.trace draws each server it asked in its own column), one arrow per step in the wire's direction (C: steps client → server, S: steps back, also when NetScript is the server); socket steps read sent …/received …. It fits the terminal's width (100 columns without one); text is elided and notes wrapped at word boundaries. svg: or html: writes the chart as a picture instead.",
                   example: "trace diagram 20") { a in
            try drawDiagram(a, try traceSelection(a, "trace diagram"))
        }
        r.register("trace.diagram.all", min: 0, max: 0, options: ["width", "svg", "html"], usage: "trace diagram all [width: COLUMNS] [svg: FILE | html: FILE]",
                   summary: "Draws every step recorded in the session as a sequence chart.", example: "trace diagram all") { a in
            try drawDiagram(a, a.interp.transcript.steps)
        }
        r.register("trace.explain", min: 0, max: 1, usage: "trace explain [LAST_N | all]",
                   summary: "Prints the last command's steps (or the last N, or `all` of the session's) again, each with what it means: SMTP and FTP commands and reply codes, HTTP methods and status codes from their RFCs; a DNS query (what it asks, rd on or off) and a DNS response told apart as an answer, a referral, NODATA or NXDOMAIN, with its flags (qr aa tc rd ra ad cd), sections, glue, TTLs and EDNS.",
                   example: "trace explain 20") { a in
            explainSteps(try traceSelection(a, "trace explain"), a.interp.output)
            return .nil
        }
        r.register("trace.explain.all", min: 0, max: 0, usage: "trace explain all",
                   summary: "Prints every step recorded in the session, each with what it means.", example: "trace explain all") { a in
            explainSteps(a.interp.transcript.steps, a.interp.output)
            return .nil
        }
        r.register("trace.save", min: 1, max: 1, usage: "trace save FILE",
                   summary: "Writes the session's recorded steps to FILE as JSON lines: time, proto, direction (client, server or note: who sent it on the wire), peer (when known), text (as the trace shows it, secrets masked) and gloss (what it means).",
                   example: "trace save \"lesson.ntrace\"") { a in
            let path = try a.string(0)
            let text = TranscriptFile.encode(a.interp.transcript.steps)
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) }
            catch { throw Diagnostic("io", "trace save \(path): cannot write the file (\((error as NSError).localizedDescription))") }
            return .nil
        }
        r.register("trace.load", min: 1, max: 1, usage: "trace load FILE",
                   summary: "Reads steps saved by `trace save` back as one command, so `trace explain` and `trace diagram` show them (nothing is sent).",
                   example: "trace load \"lesson.ntrace\"; trace explain") { a in
            let path = try a.string(0)
            let attrs = try? FileManager.default.attributesOfItem(atPath: path)
            guard let size = attrs?[.size] as? Int else { throw Diagnostic("io", "trace load \(path): no such file") }
            guard size <= 256 << 20 else { throw Diagnostic.value("trace load \(path): \(size) bytes is more than a saved transcript can be (256 MiB)") }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Diagnostic("io", "trace load \(path): cannot read the file as UTF-8 text")
            }
            let steps: [TranscriptEvent]
            do { steps = try TranscriptFile.decode(text, limit: a.interp.transcript.capacity) }
            catch let e as TranscriptFile.BadLine { throw Diagnostic.value("trace load \(path):\(e.line): \(e.reason)") }
            a.interp.transcript.append(loaded: steps)
            return .int(steps.count)
        }
        r.register("trace.clear", min: 0, max: 0, usage: "trace clear", summary: "Forgets the recorded steps.", example: "trace clear") { a in
            a.interp.transcript.clear(); return .nil
        }
        r.register("trace.note", min: 1, max: 1, usage: "trace note TEXT", summary: "Adds your own line to the transcript (shown as `*: TEXT` while tracing).",
                   example: "trace note \"now sending the mail\"") { a in
            a.interp.transcript.record("note", .note, a[0].displayString); return .nil
        }
    }
}
