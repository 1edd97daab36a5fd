import Foundation

/// One FTP reply (RFC 959 §4.2): a three-digit code and its text, which may span several
/// lines (`123-first` … `123 last`).
public struct FTPReply: Sendable, CustomStringConvertible {
    /// The three-digit code (RFC 959 §4.2); its first digit is `kind`.
    public var code: Int
    /// Every line as the server sent it (without CR LF), the code included.
    public var lines: [String]

    /// A reply from its code and its lines as sent (each with the code prefix where the server put one).
    public init(code: Int, lines: [String]) { self.code = code; self.lines = lines }

    /// The text after the code, lines joined with "\n" (continuation lines as sent).
    public var text: String {
        lines.enumerated().map { i, l in
            (i == 0 || i == lines.count - 1) && l.count >= 4 ? String(l.dropFirst(4)) : l
        }.joined(separator: "\n")
    }
    /// The whole reply as the server sent it.
    public var description: String { lines.joined(separator: "\n") }
    /// 1 preliminary, 2 done, 3 more needed, 4 transient failure, 5 permanent failure.
    public var kind: Int { code / 100 }
}

/// Reads replies from the control connection's lines. Lines are bounded (`maxLine`) and a
/// multi-line reply is bounded in lines and bytes, so a hostile server cannot grow memory.
struct FTPReplyParser {
    static let maxLine = 8192
    static let maxLines = 100_000
    static let maxBytes = 4 << 20

    /// Parses the first line of a reply: the code, and whether more lines follow.
    /// Throws `ftp.proto` for anything that does not start with a code 1xx–5xx.
    static func head(_ line: String, shown: String) throws -> (code: Int, more: Bool) {
        let u = Array(line.utf8)
        func digit(_ i: Int) -> Int? { i < u.count && u[i] >= 0x30 && u[i] <= 0x39 ? Int(u[i] - 0x30) : nil }
        guard let a = digit(0), let b = digit(1), let c = digit(2), (1...5).contains(a),
              u.count == 3 || u[3] == 0x20 || u[3] == 0x2D else {
            throw FTPError(.proto, "\(shown): the server's reply does not start with a code 1xx–5xx: \"\(Transcript.escape(Array(line.utf8.prefix(120))))\"",
                           reply: FTPReply(code: 0, lines: [line]))
        }
        return (a * 100 + b * 10 + c, u.count > 3 && u[3] == 0x2D)
    }

    /// Whether `line` ends a multi-line reply with this code (`123 ` or exactly `123`).
    static func isLast(_ line: String, code: Int) -> Bool {
        let u = Array(line.utf8.prefix(4))
        let s = String(code)
        guard u.count >= 3, String(decoding: u[0..<3], as: UTF8.self) == s else { return false }
        return u.count == 3 || u[3] == 0x20
    }

    /// Reads one complete reply with `nextLine` (a line without CR LF, nil at end of stream).
    static func read(shown: String, nextLine: () throws -> String?) throws -> FTPReply {
        guard let first = try nextLine() else {
            throw FTPError(.closed, "\(shown): the server closed the control connection")
        }
        let (code, more) = try head(first, shown: shown)
        var lines = [first]
        var bytes = first.utf8.count
        if more {
            while true {
                guard let l = try nextLine() else {
                    throw FTPError(.closed, "\(shown): the server closed the control connection in the middle of a \(code) reply")
                }
                lines.append(l)
                bytes += l.utf8.count
                if isLast(l, code: code) { break }
                if lines.count > maxLines || bytes > maxBytes {
                    throw FTPError(.proto, "\(shown): a \(code) reply longer than \(maxLines) lines or \(maxBytes) bytes")
                }
            }
        }
        return FTPReply(code: code, lines: lines)
    }
}

/// One entry of an MLSD listing (RFC 3659 §7): its name and facts (`type`, `size`, `modify`,
/// `perm`, `unique`, …; names lower-cased).
public struct FTPEntry: Sendable {
    /// The entry's name within its directory (not a path); may contain spaces.
    public var name: String
    /// The facts in the order sent, names lower-cased, values as sent.
    public var facts: [(String, String)]
    /// The value of fact `n` (give the name lower-cased), or nil when the server did not send it.
    public func fact(_ n: String) -> String? { facts.first { $0.0 == n }?.1 }
    /// "file", "dir", "cdir", "pdir", "link", … (lower-cased); "unknown" without the fact.
    public var type: String { fact("type")?.lowercased() ?? "unknown" }
    /// The size in bytes, from the `size` fact (or `sizd`, a directory's size); nil when neither was sent.
    public var size: Int64? { fact("size").flatMap { Int64($0) } ?? fact("sizd").flatMap { Int64($0) } }
    /// `modify` as "YYYY-MM-DD HH:MM:SS" (UTC), or nil.
    public var modify: String? { fact("modify").flatMap(FTPEntry.timeText) }

    /// Parses `fact=value;fact=value; name`. Nil for a line without the space before the name.
    public static func parse(mlsd line: String) -> FTPEntry? {
        guard let sp = line.firstIndex(of: " ") else { return nil }
        let factText = line[..<sp]
        let name = String(line[line.index(after: sp)...])
        var facts: [(String, String)] = []
        for f in factText.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = f.firstIndex(of: "=") else { continue }
            facts.append((f[..<eq].lowercased(), String(f[f.index(after: eq)...])))
        }
        return FTPEntry(name: name, facts: facts)
    }

    /// An entry from a Unix-style LIST line (`drwxr-xr-x 2 0 0 4096 Jan 01 00:00 name`), for
    /// servers without MLSD: only the type, size and name are read.
    public static func parse(unixList line: String) -> FTPEntry? {
        let parts = line.split(separator: " ", maxSplits: 8, omittingEmptySubsequences: true)
        guard parts.count == 9, let t = parts[0].first, "-dl".contains(t) else { return nil }
        var name = String(parts[8])
        if t == "l", let r = name.range(of: " -> ") { name = String(name[..<r.lowerBound]) }
        return FTPEntry(name: name, facts: [("type", t == "d" ? "dir" : t == "l" ? "link" : "file"), ("size", String(parts[4]))])
    }

    /// "YYYYMMDDHHMMSS[.sss]" → "YYYY-MM-DD HH:MM:SS".
    public static func timeText(_ s: String) -> String? {
        let d = Array(s.utf8)
        guard d.count >= 14, d[0..<14].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let t = String(decoding: d[0..<14], as: UTF8.self)
        func p(_ a: Int, _ b: Int) -> Substring { t.dropFirst(a).prefix(b - a) }
        return "\(p(0, 4))-\(p(4, 6))-\(p(6, 8)) \(p(8, 10)):\(p(10, 12)):\(p(12, 14))"
    }
}
