import Foundation

/// The transcript as a sequence chart: one arrow per step, in the wire's direction (C: steps
/// go client → server, S: steps back, whichever end NetScript was); a socket step's own `→`/`←`,
/// which is the recording end's view, becomes "sent"/"received" so it never points against the
/// arrow. One client and one server: two bars. Several servers (a `dns.trace` asking the root,
/// then a TLD, then a zone's server; a script talking to two hosts): one lane per server, each
/// arrow drawn between the client and its server's lane. Text is elided at a word boundary and
/// notes are wrapped, never cut mid-word (a single word longer than the room is the exception).
public enum TranscriptDiagram {
    /// The first line of a step, with a socket step's local arrow put in words.
    static func wireLabel(_ e: TranscriptEvent) -> String {
        let line = String(ProtocolGlossary.firstLine(e.text))
        guard ["tcp", "udp", "tls", "unix"].contains(e.proto), e.direction != .note else { return line }
        if line.hasPrefix("→ ") { return (e.proto == "udp" ? "sent to " : "sent ") + line.dropFirst(2) }
        if line.hasPrefix("← ") { return (e.proto == "udp" ? "received from " : "received ") + line.dropFirst(2) }
        if line.hasPrefix("⇄ ") { return String(line.dropFirst(2)) }   // both ends recorded it: drawn once
        return line
    }

    /// The text of an arrow: the first line, "(+N lines)" when there are more; for a DNS message
    /// its question or its kind rather than the "; query to" line.
    static func label(_ e: TranscriptEvent) -> String {
        if e.proto == "dns", e.direction != .note {
            let lines = e.text.split(separator: "\n", omittingEmptySubsequences: false)
            if let q = lines.firstIndex(where: { $0.hasPrefix(";; QUESTION SECTION:") }), q + 1 < lines.count {
                let question = lines[q + 1].dropFirst().split(whereSeparator: { $0 == "\t" || $0 == " " })
                let status = lines.first { $0.contains("status: ") }.flatMap { $0.components(separatedBy: "status: ").last?.split(separator: ",").first }
                let head = e.direction == .client ? "query" : "answer \(status.map(String.init) ?? "")"
                if question.count >= 3 {
                    return "\(head) \(question[question.count - 1]) \(question[0])" + (e.direction == .server ? " (+\(lines.count - 1) lines)" : "")
                }
            }
        }
        var text = wireLabel(e)
        let more = e.text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        if more > 0 { text += " (+\(more) lines)" }
        return text
    }

    /// The server a step went to or came from: its peer, or for DNS the server its text names.
    static func lane(_ e: TranscriptEvent) -> String? {
        if let p = e.peer { return p }
        guard e.proto == "dns" else { return nil }
        let first = ProtocolGlossary.firstLine(e.text)
        for marker in ["query to ", "answer from ", "retry ", "update to ", "no answer from "] {
            guard let r = first.range(of: marker) else { continue }
            var rest = first[r.upperBound...]
            if marker == "retry ", let to = rest.range(of: " to ") { rest = rest[to.upperBound...] }
            if let word = rest.split(separator: " ").first { return String(word.trimmingCharacters(in: CharacterSet(charactersIn: ",:"))) }
        }
        return nil
    }

    /// An FTP data connection's note ("data connection A → B (RETR f): N bytes …"): drawn as a
    /// transfer in the data connection's own lane.
    static func isDataTransfer(_ e: TranscriptEvent) -> Bool {
        e.proto == "ftp" && e.direction == .note && e.peer != nil && e.text.hasPrefix("data connection ")
    }

    /// The data note as an arrow: which way the bytes went, and the label.
    static func dataArrow(_ e: TranscriptEvent) -> (TranscriptEvent, String) {
        let what = e.text.range(of: "\(e.peer ?? "") (").map { String(e.text[$0.upperBound...]) } ?? e.text
        let verb = what.split(separator: " ").first.map { String($0).uppercased() } ?? ""
        let upload = ["STOR", "APPE", "STOU"].contains(verb.trimmingCharacters(in: CharacterSet(charactersIn: ",)")))
        var a = e
        a.direction = upload ? .client : .server
        let detail = what.replacingOccurrences(of: "): ", with: ": ")
        return (a, "data: " + detail)
    }

    /// `s` in at most `n` characters: cut at the last space that fits, with "…".
    static func elide(_ s: String, _ n: Int) -> String {
        guard s.count > n else { return s }
        guard n > 1 else { return "…" }
        let room = s.prefix(n - 1)
        if let space = room.lastIndex(of: " "), room.distance(from: room.startIndex, to: space) >= n / 2 {
            return String(room[..<space]) + " …"
        }
        return String(room) + "…"
    }

    /// `s` broken into lines of at most `n` characters at spaces.
    static func wrap(_ s: String, _ n: Int) -> [String] {
        var lines: [String] = [], cur = ""
        for word in s.split(separator: " ", omittingEmptySubsequences: false) {
            let w = String(word)
            if cur.isEmpty { cur = w }
            else if cur.count + 1 + w.count <= n { cur += " " + w }
            else { lines.append(cur); cur = w }
            while cur.count > n { lines.append(String(cur.prefix(n))); cur = String(cur.dropFirst(n)) }
        }
        lines.append(cur)
        return lines
    }

    /// The distinct servers of the steps, in order of first appearance.
    static func lanes(_ events: [TranscriptEvent]) -> [String] {
        var seen: [String] = []
        for e in events where e.direction != .note || isDataTransfer(e) {
            if let l = lane(e), !seen.contains(l) { seen.append(l) }
        }
        return seen
    }

    /// A script that is both ends of a connection records each message twice: sent at one end,
    /// received at the other. The chart draws it once: a received step whose bytes match an
    /// earlier sent one in the same direction is dropped, and the sent one loses its "sent".
    static func mergeBothEnds(_ events: [TranscriptEvent]) -> [TranscriptEvent] {
        func key(_ e: TranscriptEvent, _ arrow: String) -> String? {
            guard ["tcp", "udp", "tls", "unix"].contains(e.proto), e.direction != .note else { return nil }
            let line = String(ProtocolGlossary.firstLine(e.text))
            guard line.hasPrefix(arrow + " ") else { return nil }
            var rest = line.dropFirst(2)
            if e.proto == "udp", let sp = rest.firstIndex(of: " ") { rest = rest[rest.index(after: sp)...] }   // the address differs by end
            return "\(e.direction.rawValue)|\(e.proto)|\(rest)"
        }
        var pending: [String: [Int]] = [:]
        var drop = Set<Int>(), merged = Set<Int>()
        for (i, e) in events.enumerated() {
            if let k = key(e, "→") { pending[k, default: []].append(i); continue }
            if let k = key(e, "←"), var list = pending[k], !list.isEmpty {
                merged.insert(list.removeFirst()); pending[k] = list; drop.insert(i)
            }
        }
        guard !drop.isEmpty else { return events }
        return events.enumerated().compactMap { i, e in
            if drop.contains(i) { return nil }
            guard merged.contains(i) else { return e }
            var m = e
            let line = String(ProtocolGlossary.firstLine(e.text)).dropFirst(2)
            let rest = e.proto == "udp" ? (line.firstIndex(of: " ").map { line[line.index(after: $0)...] } ?? line) : line
            m.text = "⇄ " + rest
            return m
        }
    }

    /// The steps as a text sequence chart, one line per arrow (notes may wrap onto several lines),
    /// joined with newlines. `width` is the chart's width in characters (at least 40 is used); labels
    /// are elided to fit. Steps recorded by both ends of one connection are drawn once.
    public static func render(_ events: [TranscriptEvent], width: Int = 100) -> String {
        let events = mergeBothEnds(events)
        let servers = lanes(events)
        if servers.count > 1 { return renderLanes(events, servers: servers, width: width) }
        let w = max(40, width)
        let inner = w - 10            // between the two bars, after the protocol column
        var out = ["      client" + String(repeating: " ", count: max(1, inner - 10)) + "server"]
        for e in events {
            let text = label(e)
            let tag = String(e.proto.prefix(5)).padding(toLength: 5, withPad: " ", startingAt: 0)
            switch e.direction {
            case .client:
                let label = " " + elide(text, inner - 8) + " "
                let dashes = max(1, inner - 5 - label.count)
                out.append("\(tag) |---" + label + String(repeating: "-", count: dashes) + "->|")
            case .server:
                let label = " " + elide(text, inner - 8) + " "
                let dashes = max(1, inner - 5 - label.count)
                out.append("\(tag) |<-" + label + String(repeating: "-", count: dashes + 1) + "--|")
            case .note:
                for (i, part) in wrap(text, inner - 4).enumerated() {
                    out.append("\(i == 0 ? tag : "     ") |  · " + part.padding(toLength: max(part.count, inner - 4), withPad: " ", startingAt: 0) + "|")
                }
            }
        }
        return out.joined(separator: "\n")
    }

    /// One lane per server: the client's bar on the left, each server's to its right.
    static func renderLanes(_ events: [TranscriptEvent], servers: [String], width: Int) -> String {
        let w = max(7 + 12 * servers.count, width)   // at least 12 columns a lane
        let left = 6                                  // the client's bar
        let span = (w - left - 1) / servers.count     // columns from one bar to the next
        let bars = (0...servers.count).map { left + $0 * span }
        func blank() -> [Character] {
            var row = [Character](repeating: " ", count: bars.last! + 1)
            for b in bars { row[b] = "|" }
            return row
        }
        func put(_ row: inout [Character], _ at: Int, _ s: String) {
            for (i, c) in s.enumerated() where at + i < row.count { row[at + i] = c }
        }
        var head = [Character](repeating: " ", count: bars.last! + 1)
        put(&head, 0, "client")
        for (i, s) in servers.enumerated() {
            let name = elide(s, span - 2)
            put(&head, max(bars[i] + 2, bars[i + 1] - name.count + 1), name)
        }
        var out = [String(head).trimmingCharacters(in: .whitespaces).isEmpty ? "" : String(head).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)]
        var current = 0
        for var e in events {
            let tag = String(e.proto.prefix(5))
            var shown: String? = nil
            if isDataTransfer(e) { let (arrow, text) = dataArrow(e); e = arrow; shown = text }
            if e.direction == .note {
                for (i, part) in wrap(label(e), bars.last! - left - 4).enumerated() {
                    var row = blank()
                    put(&row, 0, i == 0 ? tag : "")
                    put(&row, left + 2, "· " + part)
                    out.append(String(row))
                }
                continue
            }
            if let l = lane(e), let k = servers.firstIndex(of: l) { current = k }
            let end = bars[current + 1]
            let length = end - left - 1
            let text = " " + elide(shown ?? label(e), max(4, length - 6)) + " "
            var row = blank()
            put(&row, 0, tag)
            let arrow: String
            if e.direction == .client {
                arrow = "--" + text + String(repeating: "-", count: max(1, length - 3 - text.count)) + ">"
            } else {
                arrow = "<-" + text + String(repeating: "-", count: max(1, length - 2 - text.count))
            }
            put(&row, left + 1, String(arrow.prefix(length)))
            out.append(String(row))
        }
        return out.joined(separator: "\n")
    }

    // MARK: pictures

    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The same chart as an SVG picture: a lifeline per endpoint, one labelled arrow per step,
    /// notes in grey.
    public static func svg(_ events: [TranscriptEvent]) -> String {
        let events = mergeBothEnds(events)
        var servers = lanes(events)
        if servers.isEmpty { servers = ["server"] }
        let laneWidth = 300, top = 50, rowHeight = 26
        let width = 60 + laneWidth * servers.count + 40
        let height = top + rowHeight * (events.count + 1) + 20
        let xs = (0...servers.count).map { 40 + $0 * laneWidth }
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"monospace\" font-size=\"12\">",
                   "<defs><marker id=\"a\" markerWidth=\"8\" markerHeight=\"8\" refX=\"8\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\"/></marker></defs>",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"]
        for (i, name) in (["client"] + servers).enumerated() {
            out.append("<text x=\"\(xs[i])\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">\(xml(name))</text>")
            out.append("<line x1=\"\(xs[i])\" y1=\"32\" x2=\"\(xs[i])\" y2=\"\(height - 10)\" stroke=\"#888\" stroke-dasharray=\"4,3\"/>")
        }
        var current = 0
        for (n, e) in events.enumerated() {
            let y = top + rowHeight * (n + 1)
            let text = xml(elide(label(e), 70))
            if e.direction == .note {
                out.append("<text x=\"\(xs[0] + 10)\" y=\"\(y)\" fill=\"#777\" font-style=\"italic\">\(xml(e.proto)): \(text)</text>")
                continue
            }
            if let l = lane(e), let k = servers.firstIndex(of: l) { current = k }
            let (x1, x2) = e.direction == .client ? (xs[0], xs[current + 1]) : (xs[current + 1], xs[0])
            let color = e.direction == .client ? "#1f5fbf" : "#2a8a2a"
            out.append("<line x1=\"\(x1)\" y1=\"\(y)\" x2=\"\(x2)\" y2=\"\(y)\" stroke=\"\(color)\" marker-end=\"url(#a)\"/>")
            out.append("<text x=\"\(min(x1, x2) + 8)\" y=\"\(y - 5)\" fill=\"\(color)\">\(xml(e.proto)) \(text)</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// The SVG in a page of its own.
    public static func html(_ events: [TranscriptEvent]) -> String {
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>NetScript trace</title></head><body>\n" + svg(events) + "</body></html>\n"
    }
}
