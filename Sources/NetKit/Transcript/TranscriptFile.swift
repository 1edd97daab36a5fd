import Foundation

/// `trace save` / `trace load`: the transcript as JSON lines, one step a line —
/// `{"time":"2026-11-30T19:50:01.123Z","proto":"smtp","direction":"client","peer":"127.0.0.1:2525",
/// "text":"EHLO me","gloss":["EHLO: identifies the client …"]}`. `direction` is who sent the
/// step on the wire (`client`, `server`, or `note`); `text` is the step as the trace shows it
/// (socket bytes escaped, secrets masked); `peer` is there when the step knows it.
public enum TranscriptFile {
    static let names: [TranscriptDirection: String] = [.client: "client", .server: "server", .note: "note"]

    static func formatter() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }

    /// The steps as JSON lines, each ending in a newline.
    public static func encode(_ steps: [TranscriptEvent]) -> String {
        let f = formatter()
        var out = ""
        for e in steps {
            var o: [String: Any] = ["time": f.string(from: e.time), "proto": e.proto,
                                    "direction": names[e.direction]!, "text": e.text,
                                    "gloss": ProtocolGlossary.glosses(e)]
            if let p = e.peer { o["peer"] = p }
            if let d = try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes]) {
                out += String(decoding: d, as: UTF8.self) + "\n"
            }
        }
        return out
    }

    /// A line that is not a saved step.
    public struct BadLine: Error, CustomStringConvertible {
        /// 1-based line number in the saved file.
        public let line: Int
        /// What is wrong with the line (not JSON, a missing field, an unknown direction…).
        public let reason: String
        /// `line N: reason`.
        public var description: String { "line \(line): \(reason)" }
    }

    /// The steps of a saved transcript (the format `encode` writes); blank lines are skipped and a
    /// missing or unreadable `time` becomes 1970-01-01. Throws `BadLine` for a line that is not a
    /// step, and for the first step past `limit` (the transcript's capacity) rather than reading on.
    public static func decode(_ text: String, limit: Int = 100_000) throws -> [TranscriptEvent] {
        let f = formatter()
        var steps: [TranscriptEvent] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == " " || $0 == "\r" }) { continue }
            guard steps.count < limit else { throw BadLine(line: n + 1, reason: "more than \(limit) steps") }
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw BadLine(line: n + 1, reason: "not a JSON object")
            }
            guard let proto = o["proto"] as? String, let dirName = o["direction"] as? String, let text = o["text"] as? String else {
                throw BadLine(line: n + 1, reason: "a step needs proto, direction and text")
            }
            guard let dir = names.first(where: { $0.value == dirName })?.key else {
                throw BadLine(line: n + 1, reason: "direction must be client, server or note, not \"\(dirName)\"")
            }
            let time = (o["time"] as? String).flatMap { f.date(from: $0) } ?? Date(timeIntervalSince1970: 0)
            var e = TranscriptEvent(proto: proto, direction: dir, text: text, time: time)
            e.peer = o["peer"] as? String
            steps.append(e)
        }
        return steps
    }
}
