import Foundation

/// Glosses that need more than one step: a protocol typed by hand over a socket
/// (`connect`, `send`, `recv.line`) is recognised by its port or its greeting and explained
/// like the built-in clients; and HTTP heads get their headers explained.
extension ProtocolGlossary {
    static let pop3Commands: [String: String] = [
        "USER": "names the mailbox (RFC 1939)", "PASS": "gives its password", "STAT": "asks how many messages and their total size",
        "LIST": "lists the messages and their sizes", "RETR": "fetches one message", "DELE": "marks a message for deletion",
        "QUIT": "ends the session (deletions happen now)", "CAPA": "asks the server's capabilities (RFC 2449)",
        "STLS": "asks to switch to TLS (RFC 2595)", "UIDL": "lists the messages' unique ids", "TOP": "fetches a message's head and N lines",
        "NOOP": "does nothing", "RSET": "unmarks deleted messages", "APOP": "logs in with an MD5 digest instead of the password",
    ]
    static let imapCommands: [String: String] = [
        "LOGIN": "logs in with a user name and password (RFC 9051)", "CAPABILITY": "asks what the server supports",
        "SELECT": "opens a mailbox", "EXAMINE": "opens a mailbox read-only", "FETCH": "fetches parts of messages",
        "SEARCH": "finds messages", "LOGOUT": "ends the session", "STARTTLS": "asks to switch to TLS", "LIST": "lists mailboxes",
        "NOOP": "does nothing (and collects news)", "IDLE": "waits for the server to announce changes (RFC 2177)",
        "AUTHENTICATE": "authenticates with SASL", "STORE": "changes message flags", "CLOSE": "closes the mailbox, expunging",
    ]
    /// The protocol a well-known port speaks.
    static let portProtocols: [UInt16: String] = [
        25: "smtp", 465: "smtp", 587: "smtp", 2525: "smtp", 2587: "smtp", 21: "ftp", 2121: "ftp",
        80: "http", 8000: "http", 8080: "http", 8081: "http", 110: "pop3", 995: "pop3", 143: "imap", 993: "imap",
    ]

    /// The bytes of a socket step (`→ 13 bytes "EHLO me\r\n"`), unescaped; nil if it has none.
    static func payload(_ text: String) -> String? {
        let line = firstLine(text)
        guard let open = line.firstIndex(of: "\""), line.last == "\"", line.index(after: open) < line.endIndex else { return nil }
        let inner = line[line.index(after: open)..<line.index(before: line.endIndex)]
        var out = "", it = inner.makeIterator()
        while let c = it.next() {
            guard c == "\\" else { out.append(c); continue }
            switch it.next() {
            case "r": out.append("\r")
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "x":
                let h = String([it.next() ?? "0", it.next() ?? "0"])
                out.append(Character(UnicodeScalar(UInt8(h, radix: 16) ?? 0x3F)))
            case let o?: out.append(o)
            case nil: break
            }
        }
        return out
    }

    /// The protocol a greeting or a first request gives away.
    static func recognise(_ payload: String, _ direction: TranscriptDirection) -> String? {
        let p = payload.uppercased()
        if direction == .server {
            if p.hasPrefix("220") && (p.contains("SMTP") || p.contains("MAIL")) { return "smtp" }
            if p.hasPrefix("220") && p.contains("FTP") { return "ftp" }
            if p.hasPrefix("+OK") { return "pop3" }
            if p.hasPrefix("* OK") { return "imap" }
            if p.hasPrefix("HTTP/1.") { return "http" }
        } else {
            if let w = p.split(separator: " ").first, httpMethods[String(w)] != nil, p.contains(" HTTP/1.") { return "http" }
            if p.hasPrefix("EHLO ") || p.hasPrefix("HELO ") { return "smtp" }
        }
        return nil
    }

    /// One gloss list per step, knowing the steps before it: socket steps of a recognised
    /// protocol are explained as that protocol, line by line ("as SMTP: …").
    public static func glossesInContext(_ steps: [TranscriptEvent]) -> [[String]] {
        var known: [String: String] = [:]
        return steps.map { e in
            guard ["tcp", "tls"].contains(e.proto), e.direction != .note, let text = payload(e.text) else { return glosses(e) }
            let peer = e.peer ?? ""
            var proto = known[peer]
            if proto == nil, let port = peer.split(separator: ":").last.flatMap({ UInt16($0) }) { proto = portProtocols[port] }
            if proto == nil { proto = recognise(text, e.direction) }
            guard let proto else { return glosses(e) }
            if !peer.isEmpty { known[peer] = proto }
            var out: [String] = []
            if proto == "http" {
                let g = glosses(TranscriptEvent(proto: "http", direction: e.direction, text: text.replacingOccurrences(of: "\r\n", with: "\n")))
                return g.map { "as HTTP: " + $0 }
            }
            for line in text.split(whereSeparator: { $0.isNewline }).prefix(12) {
                let one = TranscriptEvent(proto: proto, direction: e.direction, text: String(line))
                let g: [String]
                switch proto {
                case "smtp", "ftp": g = glosses(one)
                case "pop3": g = pop3Gloss(String(line), e.direction).map { [$0] } ?? []
                default: g = imapGloss(String(line), e.direction).map { [$0] } ?? []
                }
                out += g.map { "as \(proto.uppercased()): " + $0 }
            }
            return out
        }
    }

    static func pop3Gloss(_ line: String, _ dir: TranscriptDirection) -> String? {
        if dir == .server {
            if line.hasPrefix("+OK") { return "+OK: success (RFC 1939)" }
            if line.hasPrefix("-ERR") { return "-ERR: failure (RFC 1939)" }
            if line == "." { return "\".\": the end of a multi-line answer" }
            return nil
        }
        let w = line.split(separator: " ").first.map { String($0).uppercased() } ?? ""
        return pop3Commands[w].map { "\(w): \($0)" }
    }

    static func imapGloss(_ line: String, _ dir: TranscriptDirection) -> String? {
        let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
        guard parts.count >= 2 else { return nil }
        if dir == .server {
            if parts[0] == "*" { return "untagged: news from the server (\(parts[1])) (RFC 9051)" }
            if parts[0] == "+" { return "continuation: the server waits for the rest" }
            switch parts[1].uppercased() {
            case "OK": return "\(parts[0]) OK: the command tagged \(parts[0]) succeeded"
            case "NO": return "\(parts[0]) NO: the command tagged \(parts[0]) failed"
            case "BAD": return "\(parts[0]) BAD: the command tagged \(parts[0]) was not understood"
            default: return nil
            }
        }
        let w = parts[1].uppercased()
        return imapCommands[w].map { "\(parts[0]) \(w): \($0) — the tag \(parts[0]) marks its reply" }
    }

    /// HTTP headers worth a word, one gloss each.
    static func httpHeaderGlosses(_ text: String) -> [String] {
        var out: [String] = []
        for l in text.split(separator: "\n").dropFirst() {
            guard let colon = l.firstIndex(of: ":") else { continue }
            let name = l[..<colon].lowercased()
            let value = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let lv = value.lowercased()
            switch name {
            case "content-encoding": out.append("Content-Encoding: \(value): the body is compressed (\(lv.contains("gzip") ? "gzip" : lv)); the client decompresses it (RFC 9110 §8.4)")
            case "transfer-encoding" where lv.contains("chunked"):
                out.append("Transfer-Encoding: chunked: the body comes in pieces, each after its size in hex, ended by a 0-size chunk — the length need not be known in advance (RFC 9112 §7.1)")
            case "connection":
                if lv.contains("close") { out.append("Connection: close: the connection ends after this response; the next request needs a new one") }
                else if lv.contains("keep-alive") { out.append("Connection: keep-alive: the connection stays open for the next request (HTTP/1.1 does this by default)") }
            case "keep-alive": out.append("Keep-Alive: \(value): how long (timeout) and for how many requests (max) the server keeps the connection")
            case "cache-control": out.append("Cache-Control: \(value): who may keep a copy and for how long (max-age in seconds; no-store: nobody) (RFC 9111)")
            case "etag": out.append("ETag: the version of this resource; send it back in If-None-Match to get 304 if unchanged")
            case "last-modified": out.append("Last-Modified: send it back in If-Modified-Since to get 304 if unchanged")
            case "expires": out.append("Expires: a cache may use its copy until then (Cache-Control max-age wins)")
            case "age": out.append("Age: \(value) s: how long this response sat in a cache")
            case "set-cookie":
                let cookie = value.split(separator: ";").first.map { $0.split(separator: "=").first.map(String.init) ?? "" } ?? ""
                out.append("Set-Cookie: the server asks the client to keep the cookie \(cookie) and send it back with later requests (RFC 6265)")
            case "cookie": out.append("Cookie: the client sends back cookies the server set earlier (RFC 6265)")
            case "location": out.append("Location: \(value): where to go next (a redirect) or what was created")
            case "content-length": out.append("Content-Length: \(value): the body's size in bytes; it ends there and the connection can carry the next request")
            case "host": out.append("Host: the site asked for: one address can serve many sites")
            default: continue
            }
        }
        return out
    }
}
