import Foundation

/// What a protocol step means, from the RFCs: the glosses `trace explain` prints under each
/// step and the arrows `trace diagram` draws. Knows SMTP and FTP reply codes and commands,
/// HTTP methods and status codes, and DNS response codes.
public enum ProtocolGlossary {
    static let smtpReplies: [Int: String] = [
        211: "system status or help reply", 214: "help message",
        220: "service ready: the server greets the client", 221: "service closing the connection (after QUIT)",
        235: "authentication succeeded (RFC 4954)", 250: "requested action okay, completed",
        251: "user not local; will forward", 252: "cannot verify the user, but will accept the message",
        334: "AUTH challenge: the client answers with a base64 line (RFC 4954)",
        354: "start mail input; end it with a line holding only \".\"",
        421: "service not available, closing the connection (try again later)", 432: "a password transition is needed (RFC 4954)",
        450: "mailbox unavailable for now (busy or greylisted): try again later", 451: "local error in processing: try again later",
        452: "insufficient storage (or too many recipients) for now", 454: "temporary authentication failure, or TLS not available now",
        455: "server cannot accommodate the parameters now",
        500: "syntax error, command unrecognised (or line too long)", 501: "syntax error in the parameters or arguments",
        502: "command not implemented", 503: "bad sequence of commands", 504: "command parameter not implemented",
        521: "this host does not accept mail (RFC 7504)", 523: "the message is larger than the server accepts (RFC 5248)",
        530: "authentication required (RFC 4954)", 534: "authentication mechanism is too weak (RFC 4954)",
        535: "authentication credentials invalid (RFC 4954)", 538: "encryption required for this authentication mechanism (RFC 4954)",
        550: "mailbox unavailable (no such user, no access, or refused by policy)", 551: "user not local",
        552: "exceeded storage allocation (message too big)", 553: "mailbox name not allowed (bad address syntax)",
        554: "transaction failed (or: no SMTP service here)", 555: "MAIL FROM / RCPT TO parameters not recognised or not implemented",
    ]
    static let smtpCommands: [String: String] = [
        "HELO": "identifies the client (plain SMTP, RFC 5321)", "EHLO": "identifies the client and asks for the server's extensions (ESMTP)",
        "MAIL": "starts a mail transaction with the envelope sender", "RCPT": "adds one envelope recipient",
        "DATA": "asks to send the message itself (headers and body)", "BDAT": "sends a chunk of the message (CHUNKING, RFC 3030)",
        "RSET": "aborts the current mail transaction", "VRFY": "asks whether a mailbox exists", "EXPN": "asks to expand a mailing list",
        "HELP": "asks for help", "NOOP": "does nothing (keeps the connection alive)", "QUIT": "ends the session",
        "STARTTLS": "asks to switch the connection to TLS (RFC 3207)", "AUTH": "authenticates (SASL, RFC 4954)",
    ]
    /// EHLO keywords (the lines after the first of a 250 reply to EHLO) and FEAT lines.
    static let smtpExtensions: [String: String] = [
        "PIPELINING": "commands may be sent in batches without waiting for each reply (RFC 2920)",
        "SIZE": "the largest message the server accepts, in bytes (RFC 1870)",
        "8BITMIME": "8-bit message bodies are accepted (RFC 6152)", "SMTPUTF8": "UTF-8 addresses and headers are accepted (RFC 6531)",
        "AUTH": "the SASL mechanisms the client may authenticate with (RFC 4954)",
        "STARTTLS": "the connection can be switched to TLS (RFC 3207)", "CHUNKING": "BDAT may send the message in chunks (RFC 3030)",
        "DSN": "delivery status notifications may be asked for (RFC 3461)", "ENHANCEDSTATUSCODES": "replies carry x.y.z status codes (RFC 2034)",
        "HELP": "the server answers HELP", "VRFY": "the server answers VRFY", "ETRN": "remote queue starting (RFC 1985)",
        "BINARYMIME": "binary message bodies with BDAT (RFC 3030)", "REQUIRETLS": "the message may demand TLS all the way (RFC 8689)",
    ]
    static let ftpFeatures: [String: String] = [
        "EPSV": "extended passive mode (RFC 2428)", "EPRT": "extended active mode, IPv6 too (RFC 2428)",
        "MDTM": "modification times (RFC 3659)", "SIZE": "file sizes (RFC 3659)", "REST": "restarting transfers (REST STREAM, RFC 3659)",
        "MLST": "machine-readable listings and the facts given (RFC 3659)", "UTF8": "UTF-8 path names (RFC 2640)",
        "AUTH": "TLS on the control connection (RFC 4217)", "PBSZ": "protection buffer size (RFC 4217)", "PROT": "TLS on data connections (RFC 4217)",
        "TVFS": "paths use / between names (RFC 3659)", "LANG": "messages in other languages (RFC 2640)",
    ]
    static let ftpReplies: [Int: String] = [
        110: "restart marker reply", 120: "service ready in a few minutes", 125: "data connection already open; transfer starting",
        150: "file status okay; about to open the data connection", 200: "command okay", 202: "command not implemented, superfluous here",
        211: "system status (or the FEAT list of extensions)", 212: "directory status", 213: "file status (the answer to SIZE, MDTM, STAT)",
        214: "help message", 215: "the system type", 220: "service ready for a new user", 221: "service closing the control connection",
        225: "data connection open; no transfer in progress", 226: "closing the data connection; the transfer succeeded",
        227: "entering passive mode: connect to h1,h2,h3,h4,p1,p2 (port p1×256+p2)", 228: "entering long passive mode",
        229: "entering extended passive mode: connect to the same host on port |||N| (RFC 2428)", 230: "user logged in, proceed",
        232: "user logged in, authorised by the security exchange", 234: "security exchange complete: TLS starts now (AUTH TLS, RFC 4217)",
        250: "requested file action okay, completed", 257: "\"PATH\" is the current directory, or was created",
        331: "user name okay, need a password", 332: "need an account for login",
        350: "requested action pending more information (after REST or RNFR)",
        421: "service not available, closing the control connection", 425: "cannot open the data connection",
        426: "connection closed; transfer aborted", 430: "invalid user name or password", 434: "requested host unavailable",
        450: "file unavailable for now (busy)", 451: "action aborted: local error in processing", 452: "insufficient storage for now",
        500: "syntax error, command unrecognised", 501: "syntax error in the parameters or arguments", 502: "command not implemented",
        503: "bad sequence of commands", 504: "command not implemented for that parameter",
        522: "network protocol not supported (use one of the listed families, RFC 2428)", 530: "not logged in",
        532: "need an account for storing files", 534: "request denied for policy reasons (RFC 2228)",
        550: "file unavailable (not found, no access)", 551: "action aborted: page type unknown",
        552: "exceeded storage allocation", 553: "file name not allowed",
    ]
    static let ftpCommands: [String: String] = [
        "USER": "sends the user name", "PASS": "sends the password", "ACCT": "sends account information",
        "CWD": "changes the working directory", "CDUP": "goes to the parent directory", "PWD": "asks for the working directory",
        "QUIT": "ends the session", "REIN": "reinitialises the session", "PORT": "active mode: the server should connect to h1,h2,h3,h4,p1,p2",
        "EPRT": "active mode for IPv4 or IPv6 (RFC 2428)", "PASV": "passive mode: asks the server for a port to connect to",
        "EPSV": "extended passive mode: asks for a port on the same host (RFC 2428)", "TYPE": "sets the transfer type (A = ASCII, I = binary)",
        "STRU": "sets the file structure", "MODE": "sets the transfer mode", "RETR": "downloads a file over the data connection",
        "STOR": "uploads a file over the data connection", "STOU": "uploads under a unique name", "APPE": "appends to a file",
        "REST": "restarts the next transfer at a byte offset (resume)", "RNFR": "names the file to rename", "RNTO": "gives its new name",
        "ABOR": "aborts the transfer", "DELE": "deletes a file", "RMD": "removes a directory", "MKD": "makes a directory",
        "LIST": "lists a directory (human-readable, over the data connection)", "NLST": "lists names only (over the data connection)",
        "MLSD": "lists a directory as machine-readable facts (RFC 3659)", "MLST": "facts about one file (RFC 3659)",
        "SITE": "a server-specific command", "SYST": "asks the system type", "STAT": "asks for status", "HELP": "asks for help",
        "NOOP": "does nothing", "FEAT": "asks for the server's extensions (RFC 2389)", "OPTS": "sets an option of a command",
        "AUTH": "asks to protect the control connection (AUTH TLS, RFC 4217)", "PBSZ": "protection buffer size (0 for TLS)",
        "PROT": "data connection protection (P = private, TLS; C = clear)", "CCC": "clears the control connection (back to plain text)",
        "MDTM": "asks a file's modification time (RFC 3659)", "SIZE": "asks a file's size (RFC 3659)",
    ]
    static let httpStatus: [Int: String] = [
        100: "continue: send the body", 101: "switching protocols", 103: "early hints",
        200: "OK", 201: "created", 202: "accepted (processing later)", 203: "non-authoritative information", 204: "no content",
        205: "reset content", 206: "partial content (a Range was served)", 207: "multi-status (WebDAV)",
        300: "multiple choices", 301: "moved permanently: follow Location (a client may switch POST to GET)", 302: "found: follow Location for now",
        303: "see other: GET the Location", 304: "not modified: your cached copy is current", 307: "temporary redirect, same method and body",
        308: "permanent redirect, same method and body",
        400: "bad request", 401: "unauthorised: authenticate (see WWW-Authenticate)", 402: "payment required", 403: "forbidden",
        404: "not found", 405: "method not allowed (see Allow)", 406: "not acceptable", 407: "proxy authentication required",
        408: "request timeout", 409: "conflict", 410: "gone", 411: "length required", 412: "precondition failed",
        413: "content too large", 414: "URI too long", 415: "unsupported media type", 416: "range not satisfiable",
        417: "expectation failed", 418: "I'm a teapot (RFC 2324)", 421: "misdirected request", 422: "unprocessable content",
        425: "too early", 426: "upgrade required", 428: "precondition required", 429: "too many requests (see Retry-After)",
        431: "request header fields too large", 451: "unavailable for legal reasons",
        500: "internal server error", 501: "not implemented", 502: "bad gateway", 503: "service unavailable (see Retry-After)",
        504: "gateway timeout", 505: "HTTP version not supported",
    ]
    static let httpMethods: [String: String] = [
        "GET": "asks for a resource", "HEAD": "asks for the head only (no body)", "POST": "sends data to be processed",
        "PUT": "replaces a resource", "PATCH": "changes part of a resource", "DELETE": "deletes a resource",
        "OPTIONS": "asks what the server allows", "CONNECT": "asks a proxy for a tunnel", "TRACE": "asks the server to echo the request",
    ]
    static let dnsStatus: [String: String] = [
        "NOERROR": "no error",
        "FORMERR": "the server could not understand the query", "SERVFAIL": "the server failed to answer (often a broken delegation or DNSSEC failure)",
        "NXDOMAIN": "the name does not exist", "NOTIMP": "the server does not implement this kind of query",
        "REFUSED": "the server refuses (not authoritative and no recursion for you, or policy)",
        "YXDOMAIN": "update prerequisite failed: the name exists", "YXRRSET": "update prerequisite failed: the record set exists",
        "NXRRSET": "update prerequisite failed: the record set does not exist", "NOTAUTH": "not authoritative for the zone (or TSIG refused)",
        "NOTZONE": "a name in the update is outside the zone", "BADVERS": "EDNS version not supported",
    ]

    /// The RFC of each protocol's reply codes, named after the gloss.
    static let sources: [String: String] = ["smtp": "RFC 5321", "ftp": "RFC 959", "http": "RFC 9110", "dns": "RFC 1035/2136"]

    /// The first line of a step's text.
    static func firstLine(_ text: String) -> Substring {
        text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// A three-digit reply code at the start of a line (`250 OK`, `250-SIZE`, `220`).
    static func replyCode(_ line: Substring) -> Int? {
        let u = Array(line.utf8.prefix(4))
        guard u.count >= 3, u[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if u.count == 4 && u[3] != 0x20 && u[3] != 0x2D { return nil }
        return Int(String(line.prefix(3)))
    }

    /// What the step means, or nil when there is nothing to say.
    public static func explain(_ e: TranscriptEvent) -> String? {
        let text = e.text
        let line = firstLine(text)
        switch (e.proto, e.direction) {
        case ("ftp", .server) where line.hasPrefix(" "):
            // A FEAT line: " MLST type*;size*;modify*;".
            let word = line.dropFirst().split(separator: " ", maxSplits: 1).first.map { String($0).uppercased() } ?? ""
            return ftpFeatures[word].map { "\(word): \($0)" }
        case ("smtp", .server), ("ftp", .server):
            guard let code = replyCode(line) else { return nil }
            if e.proto == "smtp", code == 250, line.count > 4 {
                let word = line.dropFirst(4).split(separator: " ", maxSplits: 1).first.map { String($0).uppercased() } ?? ""
                if let gloss = smtpExtensions[word] { return "\(word): \(gloss)" }
            }
            let table = e.proto == "smtp" ? smtpReplies : ftpReplies
            let gloss = table[code] ?? classGloss(code)
            return "\(code): \(gloss) (\(sources[e.proto]!))"
        case ("smtp", .client), ("ftp", .client):
            let word = line.split(separator: " ", maxSplits: 1).first.map { String($0).uppercased() } ?? ""
            let table = e.proto == "smtp" ? smtpCommands : ftpCommands
            guard let gloss = table[word] else { return nil }
            return "\(word): \(gloss)"
        case ("http", .note):
            if line.hasPrefix("reusing the kept-alive connection") {
                return "keep-alive: this request goes over a TCP connection already open from an earlier one — no new handshake; HTTP/1.1 keeps a connection open unless a side says Connection: close (RFC 9112 §9.3)"
            }
            return nil
        case ("http", _):
            for l in text.split(separator: "\n").prefix(3) {
                let parts = l.split(separator: " ", maxSplits: 2)
                if parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) {
                    return "\(code): \(httpStatus[code] ?? classGloss(code, http: true)) (RFC 9110)"
                }
                if parts.count >= 2, let gloss = httpMethods[String(parts[0])] { return "\(parts[0]): \(gloss)" }
            }
            return nil
        case ("tcp", .note), ("tls", .note), ("smtp", .note), ("ftp", .note):
            return connectionGloss(String(line))
        case ("dns", _):
            let g = dnsGlosses(text, e.direction)
            return g.isEmpty ? nil : g.joined(separator: "\n")
        default:
            return nil
        }
    }

    /// What the step means, one gloss a line (a DNS message gets several: its kind, flags,
    /// sections, glue, TTLs, EDNS); empty when there is nothing to say.
    public static func glosses(_ e: TranscriptEvent) -> [String] {
        var out = explain(e).map { $0.split(separator: "\n").map(String.init) } ?? []
        if e.proto == "smtp", e.direction == .server { out += smtpMore(firstLine(e.text)) }
        if e.proto == "http", e.direction != .note { out += httpHeaderGlosses(e.text) }
        return out
    }

    /// After an SMTP reply: an AUTH challenge decoded, and what comes next.
    static func smtpMore(_ line: Substring) -> [String] {
        guard let code = replyCode(line) else { return [] }
        // Only the last line of a multi-line reply asks for the next step.
        let last = line.count == 3 || line.dropFirst(3).first == " "
        var out: [String] = []
        if code == 334 {
            let payload = line.dropFirst(4).trimmingCharacters(in: .whitespaces)
            if let d = Data(base64Encoded: payload), !d.isEmpty, let text = String(data: d, encoding: .utf8),
               text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
                if text.hasPrefix("<") && text.hasSuffix(">") {
                    out.append("challenge decoded: \(text) — CRAM-MD5 (RFC 2195): the client answers base64(\"user \" + hex HMAC-MD5(password, challenge)), so the password itself never crosses the wire")
                } else {
                    out.append("challenge decoded: \"\(text)\" — the client answers with it in base64 (AUTH LOGIN)")
                }
            } else if payload.isEmpty {
                out.append("an empty challenge: the client sends its credentials in base64 (AUTH PLAIN)")
            }
        }
        guard last else { return out }
        let next: String?
        switch code {
        case 220: next = "the client says EHLO (after STARTTLS: the TLS handshake, then EHLO again)"
        case 221: next = "the server closes the connection"
        case 235: next = "MAIL FROM starts a transaction, now as the authenticated user"
        case 250: next = "the next command: MAIL FROM, RCPT TO, DATA — or QUIT"
        case 251, 252: next = "more RCPT TO, or DATA"
        case 334: next = "the client's base64 answer on a line of its own"
        case 354: next = "the message (headers, a blank line, the body), then a line holding only \".\""
        case 530: next = "AUTH (after STARTTLS, if the server wants TLS first)"
        default:
            switch code / 100 {
            case 4: next = "the same may work later; the client may RSET, or QUIT and retry"
            case 5: next = "this command is not retried as it is; the transaction goes on without it, or RSET / QUIT"
            default: next = nil
            }
        }
        if let next { out.append("next: " + next) }
        return out
    }

    /// What a connection note means: the TCP connect, TLS, closing.
    static func connectionGloss(_ line: String) -> String? {
        if line.hasPrefix("connected") || line.hasPrefix("connected to") {
            var g = "TCP connect: the three-way handshake (SYN, SYN-ACK, ACK) is done; a reliable byte stream is open both ways (RFC 9293)"
            if line.contains("TLS") { g += "; then the TLS handshake: cipher agreed, the server's certificate checked against the name asked for (RFC 8446)" }
            if line.contains("(replay") { g += " — here answered from a recording, no network" }
            return g
        }
        if line.hasPrefix("TLS handshake done") || line.hasPrefix("starting TLS") || line.hasPrefix("TLS established") {
            return "TLS: the ends agreed a version and cipher, the server proved it holds the certificate's key, and the certificate was checked for the name asked for; from here the bytes are encrypted (RFC 8446)"
        }
        if line.hasPrefix("closed") { return "close: a FIN tells the peer no more bytes are coming (RFC 9293)" }
        if line.hasPrefix("shutdown") { return "half-close: our FIN is sent, the peer may still send (RFC 9293)" }
        if line.hasPrefix("connect failed") { return "the TCP connect failed: refused (a RST: nothing listens there), or no answer in time" }
        return nil
    }

    /// The meaning of a reply code's first digit (RFC 5321 §4.2.1, RFC 959 §4.2).
    static func classGloss(_ code: Int, http: Bool = false) -> String {
        if http {
            switch code / 100 {
            case 1: return "informational"
            case 2: return "success"
            case 3: return "redirection"
            case 4: return "client error"
            case 5: return "server error"
            default: return "not a valid status"
            }
        }
        switch code / 100 {
        case 1: return "positive preliminary reply: more is coming"
        case 2: return "positive completion"
        case 3: return "positive intermediate: send more"
        case 4: return "transient failure: try again later"
        case 5: return "permanent failure: do not retry as is"
        default: return "not a valid reply code"
        }
    }
}
