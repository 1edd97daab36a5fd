import Foundation
import NetKit
import OrderedCollections

/// `mail` (build and send one message) and the `smtp.*` session commands, as in Python's
/// smtplib: connect, ehlo, starttls, login, sendmail, quit. NetKit's SMTPClient does the work.
enum MailBuiltins {
    static let messageOptions = ["from", "to", "cc", "bcc", "subject", "body", "html", "attachments", "headers"]
    static let defaultServer = "localhost:25"

    static func register(in r: Interpreter) {
        registerMail(r)
        registerSessions(r)
    }

    // MARK: options

    /// An address option: a string or a list of strings (nil when absent).
    static func addresses(_ a: Args, _ name: String) throws -> [String] {
        guard let v = a.option(name) else { return [] }
        switch v {
        case .nil: return []
        case .string(let s): return [s]
        case .list(let l):
            return try l.items.map {
                guard case .string(let s) = $0 else { throw Diagnostic.type("\(a.callee): \(name): addresses must be strings, not \($0.typeName.withArticle)") }
                return s
            }
        default: throw Diagnostic.type("\(a.callee): \(name): must be an address or a list of addresses, not \(v.typeName.withArticle)")
        }
    }

    /// The message the options describe; attachments are read from their files.
    static func message(_ a: Args) throws -> MailMessageValue {
        let msg = try mailMessage(a)
        return try smtpCall { try MailMessageValue(msg) }
    }

    /// The message the options describe (`mail` sends it; `mail.message` renders it into a value).
    static func mailMessage(_ a: Args) throws -> MailMessage {
        guard let from = try a.optionString("from") else { throw Diagnostic.value("\(a.callee): needs from: \"you@example.test\"") }
        let to = try addresses(a, "to"), cc = try addresses(a, "cc"), bcc = try addresses(a, "bcc")
        guard !(to + cc + bcc).isEmpty else { throw Diagnostic.value("\(a.callee): needs at least one recipient (to:, cc: or bcc:)") }
        var files: [MailAttachment] = []
        if let v = a.option("attachments") {
            let items: [Value]
            switch v {
            case .string: items = [v]
            case .list(let l): items = l.items
            default: throw Diagnostic.type("\(a.callee): attachments: must be a list of file paths, not \(v.typeName.withArticle)")
            }
            for item in items {
                guard case .string(let path) = item else { throw Diagnostic.type("\(a.callee): attachments: each must be a file path (a string), not \(item.typeName.withArticle)") }
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw Diagnostic.io("\(a.callee): cannot read the attachment \(path)")
                }
                guard data.count <= 64 << 20 else { throw Diagnostic.value("\(a.callee): the attachment \(path) is over 64 MiB") }
                files.append(MailAttachment(filename: (path as NSString).lastPathComponent, data: [UInt8](data)))
            }
        }
        var headers: [(String, String)] = []
        if let v = a.option("headers") {
            guard case .map(let m) = v else { throw Diagnostic.type("\(a.callee): headers: must be a map {\"Reply-To\": \"…\"}, not \(v.typeName.withArticle)") }
            for (k, val) in m.dict {
                guard case .string(let name) = k else { throw Diagnostic.type("\(a.callee): headers: names must be strings") }
                switch val {
                case .string(let s): headers.append((name, s))
                case .int, .float: headers.append((name, Value.repr(val)))
                default: throw Diagnostic.type("\(a.callee): headers: the value of \(name) must be a string, not \(val.typeName.withArticle)")
                }
            }
        }
        let msg = MailMessage(from: from, to: to, cc: cc, bcc: bcc, subject: try a.optionString("subject") ?? "",
                              body: try a.optionString("body"), html: try a.optionString("html"),
                              attachments: files, headers: headers)
        return msg
    }

    static func timeout(_ a: Args) throws -> Double {
        try a.timeout(30, max: 3600)
    }

    static func tlsOptions(_ a: Args) throws -> TLSOptions {
        TLSOptions(verify: a.optionBool("verify") ?? true, caFile: try a.optionString("ca"), serverName: try a.optionString("sni"))
    }

    /// `tls:` — "starttls", "implicit" or "none"; nil (absent) means STARTTLS when offered.
    static func tlsMode(_ a: Args, allowed: [String]) throws -> String? {
        guard let v = a.option("tls") else { return nil }
        guard case .string(let s) = v, allowed.contains(s) else {
            throw Diagnostic.value("\(a.callee): tls: must be " + allowed.map { "\"\($0)\"" }.joined(separator: ", ") + ", not \(Value.repr(v))")
        }
        return s
    }

    static func session(_ a: Args, _ i: Int = 0) throws -> SMTPClient {
        guard case .native(let s as SMTPSessionValue) = a[i] else {
            throw Diagnostic.type("\(a.callee): argument \(i + 1) must be an smtp session (from smtp.connect), not \(a[i].typeName.withArticle)")
        }
        return s.client
    }

    /// A message argument: a string or bytes (sent as is) or a mail_message.
    static func messageBytes(_ a: Args, _ i: Int) throws -> [UInt8] {
        switch a[i] {
        case .string(let s): return Array(s.utf8)
        case .bytes(let b): return b
        case .native(let m as MailMessageValue): return m.bytes
        default: throw Diagnostic.type("\(a.callee): the message must be a string, bytes or a mail_message (from mail.message), not \(a[i].typeName.withArticle)")
        }
    }

    /// A string or a list of strings (ESMTP parameters).
    static func stringList(_ a: Args, _ i: Int, _ name: String) throws -> [String] {
        switch a[i] {
        case .string(let s): return s.isEmpty ? [] : [s]
        case .list(let l):
            return try l.items.map {
                guard case .string(let s) = $0 else { throw Diagnostic.type("\(a.callee): \(name) must be strings, not \($0.typeName.withArticle)") }
                return s
            }
        default: throw Diagnostic.type("\(a.callee): \(name) must be a string or a list of strings, not \(a[i].typeName.withArticle)")
        }
    }

    // MARK: mail

    static func registerMail(_ r: Interpreter) {
        r.namespace("mail", summary: "Email: mail (build and send one message), mail.message (build one for smtp.send_message).")
        r.register("mail", min: 0, max: 0,
                   options: messageOptions + ["server", "tls", "user", "password", "verify", "ca", "sni", "timeout", "name"],
                   usage: "mail from: A to: B|[B…] [cc: […]] [bcc: […]] [subject: S] [body: TEXT] [html: HTML] [attachments: [FILE…]] [headers: {…}] [server: \"localhost:25\"] [tls: \"starttls\"|\"implicit\"|\"none\"] [user: U password: P] [verify: false] [ca: FILE] [sni: NAME] [timeout: 30]",
                   summary: "Sends one mail in one command (smtplib's SMTP + sendmail + quit): builds an RFC 5322 / MIME message (Date, Message-ID, encoded non-ASCII headers, UTF-8 bodies, html as multipart/alternative, base64 attachments; Bcc never in the headers) and sends it over one SMTP session. Returns the refused recipients as a map (empty {} when all were accepted). Without tls:, STARTTLS is used when the server offers it; a password is never sent over plain text unless tls: \"none\" says so. Errors: smtp.recipients_refused smtp.sender_refused smtp.auth smtp.data smtp.disconnected smtp.not_supported smtp.helo smtp.response, refused timeout tls, value (CR/LF in a header).",
                   example: "mail from: \"me@example.test\" to: [\"you@example.test\"] subject: \"hi\" body: \"hello\" server: \"127.0.0.1:2525\" tls: \"none\"") { a in
            let msg = try mailMessage(a)
            let mode = try tlsMode(a, allowed: ["starttls", "implicit", "none"])
            let user = try a.optionString("user"), password = try a.optionString("password")
            if password != nil && user == nil { throw Diagnostic.value("mail: password: needs user:") }
            if user != nil && password == nil { throw Diagnostic.value("mail: user: needs password:") }
            let server = try a.optionString("server") ?? defaultServer
            let tls = try tlsOptions(a)
            let t = try timeout(a)
            a.interp.output.flush()
            let security: SMTPClient.Security = switch mode {
                case "starttls": .startTLS
                case "implicit": .implicit
                case "none": .none
                default: .opportunistic
            }
            let refused = try smtpCall {
                try SMTPClient.send(msg, server: server, security: security, tls: tls,
                                    credentials: user.flatMap { u in password.map { (u, $0) } },
                                    timeout: t, localName: try a.optionString("name"),
                                    transcript: a.interp.transcript, cancel: socketCancel)
            }
            return smtpRefusedMap(refused)
        }
        r.register("mail.message", min: 0, max: 0, options: messageOptions,
                   usage: "mail.message from: A to: B|[B…] [cc: […]] [bcc: […]] [subject: S] [body: TEXT] [html: HTML] [attachments: [FILE…]] [headers: {…}]",
                   summary: "Builds a message as mail does, without sending it: a mail_message with fields from to cc bcc subject recipients (the envelope: to, cc and bcc) text (the RFC 5322 text) size. Send it with smtp.send_message.",
                   example: "m = mail.message from: \"me@example.test\" to: \"you@example.test\" subject: \"hi\" body: \"hello\"; print m.text") { a in
            .native(try message(a))
        }
    }

    // MARK: sessions

    static func registerSessions(_ r: Interpreter) {
        r.namespace("smtp", summary: "SMTP sessions step by step (as Python's smtplib): smtp.connect, ehlo, helo, starttls, login, sendmail, send_message, and one command at a time: mail, rcpt, data, docmd, noop, rset, verify, quit.")
        r.register("smtp.connect", min: 1, max: 1, options: ["tls", "verify", "ca", "sni", "timeout", "name", "pipelining"],
                   usage: "smtp.connect \"HOST:PORT\" [tls: \"implicit\"|\"none\"] [verify: false] [ca: FILE] [sni: NAME] [timeout: 30] [name: EHLO_NAME] [pipelining: false]",
                   summary: "Opens an SMTP session and reads the greeting (220). tls: \"implicit\" speaks TLS from the start (port 465, the default port then; otherwise 25). pipelining: false makes smtp.sendmail and smtp.send_message send MAIL, each RCPT and DATA one at a time, each waiting for its reply, even when the server offers PIPELINING (to watch each reply paired with its command). Fields: address esmtp_features does_esmtp last_reply greeting tls certificate (the server's, after STARTTLS or with implicit TLS) authenticated closed. Errors: refused timeout tls smtp.response smtp.disconnected.",
                   example: "s = smtp.connect \"127.0.0.1:2525\"; smtp.ehlo s; print s.esmtp_features; smtp.quit s") { a in
            let addr = try a.string(0)
            let mode = try tlsMode(a, allowed: ["implicit", "none"])
            let tls = try tlsOptions(a)
            let t = try timeout(a)
            a.interp.output.flush()
            let pipelining = a.optionBool("pipelining") ?? true
            let client = try smtpCall {
                try SMTPClient.connect(addr, tls: mode == "implicit" ? tls : nil, timeout: t, localName: try a.optionString("name"),
                                       transcript: a.interp.transcript, cancel: socketCancel)
            }
            client.usePipelining = pipelining
            return .native(SMTPSessionValue(client))
        }
        r.register("smtp.ehlo", min: 1, max: 2, usage: "smtp.ehlo SESSION [NAME]",
                   summary: "EHLO: the reply as {code, text}; the extensions land in the session's esmtp_features. A refusal is smtp.helo.",
                   example: "r = smtp.ehlo s; print r.code s.esmtp_features") { a in
            let c = try session(a)
            let name = a.count > 1 ? try a.string(1) : nil
            return smtpReplyValue(try smtpCall { try c.ehlo(name) })
        }
        r.register("smtp.helo", min: 1, max: 2, usage: "smtp.helo SESSION [NAME]",
                   summary: "HELO (for servers without ESMTP): the reply as {code, text}. A refusal is smtp.helo.",
                   example: "smtp.helo s") { a in
            let c = try session(a)
            let name = a.count > 1 ? try a.string(1) : nil
            return smtpReplyValue(try smtpCall { try c.helo(name) })
        }
        r.register("smtp.starttls", min: 1, max: 1, options: ["verify", "ca", "sni"],
                   usage: "smtp.starttls SESSION [verify: false] [ca: FILE] [sni: NAME]",
                   summary: "STARTTLS: upgrades the session to TLS (certificate verified unless verify: false: the chain, ca: trusting a private CA, and the identity of the host smtp.connect was given or sni:, by RFC 9525 — help tls), then says EHLO again and forgets the features learnt in the clear. Errors: smtp.not_supported (not offered), smtp.response, tls.",
                   example: "smtp.starttls s ca: \"ca.pem\"") { a in
            let c = try session(a)
            let tls = try tlsOptions(a)
            try smtpCall { try c.startTLS(tls) }
            return .nil
        }
        r.register("smtp.login", min: 3, max: 3, usage: "smtp.login SESSION USER PASSWORD",
                   summary: "AUTH with the first mechanism the server offers of CRAM-MD5, PLAIN, LOGIN (smtplib's order). The password and the AUTH exchange are masked in the trace. Errors: smtp.auth (refused), smtp.not_supported (no AUTH or no known mechanism).",
                   example: "smtp.login s \"ann\" (env \"SMTP_PASSWORD\")") { a in
            let c = try session(a)
            let user = try a.string(1), password = try a.string(2)
            try smtpCall { try c.login(user: user, password: password) }
            return .nil
        }
        r.register("smtp.sendmail", min: 4, max: 4, usage: "smtp.sendmail SESSION FROM TO MSG",
                   summary: "Sends MSG (RFC 5322 text: a string, bytes, or a mail_message) from the envelope sender FROM to TO (an address or a list). Line ends become CRLF, leading dots are doubled. Returns the refused recipients as a map ({} when all were accepted). Errors: smtp.sender_refused smtp.recipients_refused (all refused) smtp.data smtp.disconnected smtp.not_supported (8-bit or non-ASCII without the extension), value (a line over 998 octets).",
                   example: "smtp.sendmail s \"a@example.test\" [\"b@example.test\"] \"Subject: hi\\r\\n\\r\\nhello\\r\\n\"") { a in
            let c = try session(a)
            let from = try a.string(1)
            let to: [String]
            switch a[2] {
            case .string(let s): to = [s]
            case .list(let l): to = try l.items.map { guard case .string(let s) = $0 else { throw Diagnostic.type("smtp.sendmail: recipients must be strings") }; return s }
            default: throw Diagnostic.type("smtp.sendmail: TO must be an address or a list of addresses, not \(a[2].typeName.withArticle)")
            }
            let bytes = try messageBytes(a, 3)
            a.interp.output.flush()
            return smtpRefusedMap(try smtpCall { try c.sendmail(from: from, to: to, message: bytes) })
        }
        r.register("smtp.send_message", min: 2, max: 2, usage: "smtp.send_message SESSION MESSAGE|[MESSAGES]",
                   summary: "Sends a mail_message (from mail.message) to every recipient in it (to, cc and bcc; Bcc is not in the text). Returns the refused recipients as a map, like smtp.sendmail. Given a list of messages, sends them all in one pipelined stream (each message's content travels with the next one's envelope) and returns a list: for each message its refused-recipients map, or an error value when the server would not take it (the batch goes on); a lost connection is raised, saying how many were accepted.",
                   example: "m = mail.message from: \"a@example.test\" to: \"b@example.test\" subject: \"hi\" body: \"hello\"; smtp.send_message s m") { a in
            let c = try session(a)
            func message(_ v: Value) throws -> MailMessageValue {
                guard case .native(let m as MailMessageValue) = v else {
                    throw Diagnostic.type("smtp.send_message: the message must be a mail_message (from mail.message), not \(v.typeName.withArticle)")
                }
                return m
            }
            a.interp.output.flush()
            if case .list(let l) = a[1] {
                let items = try l.items.map { v -> SMTPClient.Outgoing in
                    let m = try message(v)
                    return (m.envelopeFrom, m.recipients, m.bytes)
                }
                let results = try smtpCall { try c.sendMany(items) }
                return .list(results.map { r in
                    switch r {
                    case .success(let refused): return smtpRefusedMap(refused)
                    case .failure(let e): return .native(ErrorObject(smtpDiagnostic(e)))
                    }
                })
            }
            let m = try message(a[1])
            return smtpRefusedMap(try smtpCall { try c.sendmail(from: m.envelopeFrom, to: m.recipients, message: m.bytes) })
        }
        r.register("smtp.mail", min: 2, max: 3, usage: "smtp.mail SESSION FROM [OPTIONS]",
                   summary: "MAIL FROM:<FROM> alone (smtplib's mail), with ESMTP parameters OPTIONS (a string or a list: \"SIZE=1000\", \"BODY=8BITMIME\"). Says EHLO first if the session has not. Returns the reply as {code, text}: a refusal (5xx) is a reply, not an error. Errors: value (CR or LF; nothing sent), smtp.disconnected, timeout.",
                   example: "r = smtp.mail s \"me@example.test\"; print r.code r.text") { a in
            let c = try session(a)
            let from = try a.string(1)
            let opts = a.count > 2 ? try stringList(a, 2, "OPTIONS") : []
            return smtpReplyValue(try smtpCall { try c.mail(from: from, options: opts) })
        }
        r.register("smtp.rcpt", min: 2, max: 3, usage: "smtp.rcpt SESSION TO [OPTIONS]",
                   summary: "RCPT TO:<TO> alone (smtplib's rcpt), for one recipient. Returns the reply as {code, text} (250/251 accepted; 5xx refused — a reply, not an error). Errors: value (CR or LF; nothing sent), smtp.disconnected, timeout.",
                   example: "r = smtp.rcpt s \"you@example.test\"; print r.code") { a in
            let c = try session(a)
            let to = try a.string(1)
            let opts = a.count > 2 ? try stringList(a, 2, "OPTIONS") : []
            return smtpReplyValue(try smtpCall { try c.rcpt(to: to, options: opts) })
        }
        r.register("smtp.data", min: 2, max: 2, usage: "smtp.data SESSION MSG",
                   summary: "DATA alone (smtplib's data): sends DATA, then on 354 the message (a string, bytes or a mail_message; line ends become CRLF, leading dots are doubled) and the final \".\"; returns the final reply as {code, text} (250: the server took it). A refused DATA is smtp.data, as in smtplib. Errors: smtp.data, smtp.disconnected, timeout, value (a line over 998 octets; nothing sent).",
                   example: "smtp.mail s \"a@example.test\"; smtp.rcpt s \"b@example.test\"; print (smtp.data s \"Subject: hi\\r\\n\\r\\nhello\\r\\n\")") { a in
            let c = try session(a)
            let bytes = try messageBytes(a, 1)
            a.interp.output.flush()
            return smtpReplyValue(try smtpCall { try c.data(bytes) })
        }
        r.register("smtp.docmd", min: 2, max: 2, usage: "smtp.docmd SESSION \"CMD ARGS\"",
                   summary: "Sends any one command line (smtplib's docmd) and returns the reply as {code, text}, whatever its code. CR or LF in the line is a value error and nothing is sent.",
                   example: "print (smtp.docmd s \"NOOP\")") { a in
            let c = try session(a)
            let line = try a.string(1)
            return smtpReplyValue(try smtpCall { try c.docmd(line) })
        }
        r.register("smtp.noop", min: 1, max: 1, usage: "smtp.noop SESSION", summary: "NOOP: the reply as {code, text} (keeps a session alive, checks it still is).",
                   example: "print (smtp.noop s).code") { a in
            let c = try session(a)
            return smtpReplyValue(try smtpCall { try c.noop() })
        }
        r.register("smtp.rset", min: 1, max: 1, usage: "smtp.rset SESSION", summary: "RSET: abandons the current transaction; the reply as {code, text}.",
                   example: "smtp.rset s") { a in
            let c = try session(a)
            return smtpReplyValue(try smtpCall { try c.rset() })
        }
        r.register("smtp.verify", min: 2, max: 2, usage: "smtp.verify SESSION ADDRESS",
                   summary: "VRFY: the server's reply as {code, text} (250/251 known, 252 cannot verify, 5xx unknown or disabled) — an answer, not an error.",
                   example: "print (smtp.verify s \"postmaster\")") { a in
            let c = try session(a)
            let who = try a.string(1)
            return smtpReplyValue(try smtpCall { try c.verify(who) })
        }
        r.register("smtp.quit", min: 1, max: 1, usage: "smtp.quit SESSION",
                   summary: "QUIT, then closes the session. The reply as {code, text}, or nil when the server had already gone.",
                   example: "smtp.quit s") { a in
            let c = try session(a)
            return c.quit().map(smtpReplyValue) ?? .nil
        }
    }
}
