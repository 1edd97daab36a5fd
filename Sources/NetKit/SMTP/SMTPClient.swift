import Foundation

/// An SMTP session over a `StreamConnection`, step by step as in Python's smtplib: connect
/// (plain, or implicit TLS for port 465), EHLO/HELO, STARTTLS, AUTH, and sending messages
/// with PIPELINING, SIZE, 8BITMIME and SMTPUTF8 when the server offers them.
///
/// Every command and reply is reported to the transcript as `C:`/`S:` lines (AUTH payloads
/// masked, message bodies summarised); the socket under it records nothing, so no secret can
/// leak through a raw byte trace. Every wait is bounded by `timeout` and the cancel check.
public final class SMTPClient: @unchecked Sendable {
    /// The connection underneath; replaced by its TLS form after `startTLS`.
    public private(set) var conn: StreamConnection
    /// The address as given ("127.0.0.1:2525").
    public let address: String
    /// The host part: sent as SNI and verified by STARTTLS.
    public let host: String
    /// Seconds to wait for each reply and each send; may be changed between commands.
    public var timeout: TimeInterval
    /// Where the `C:`/`S:` lines go; nil records nothing.
    public let transcript: Transcript?
    let cancel: CancelCheck?
    /// The name we give in EHLO/HELO.
    public var localName: String
    /// The server's greeting.
    public let greeting: SMTPReply
    /// EHLO's extensions, keyword lower-cased ("pipelining", "size", "auth") → parameters.
    public private(set) var features: [(String, String)] = []
    /// True when the server answered EHLO (not just HELO), so `features` means something.
    public private(set) var doesESMTP = false
    /// The last reply read (the greeting, at first).
    public private(set) var lastReply: SMTPReply?
    /// True once the session runs over TLS: implicit TLS from `connect`, or after `startTLS`.
    public private(set) var isTLS: Bool
    /// True after `quit` or `close`; a command after that fails with `smtp.disconnected`.
    public private(set) var isClosed = false
    /// Whether EHLO or HELO has been answered with 250 (since the last STARTTLS).
    public private(set) var greeted = false
    /// True after `login` succeeded.
    public private(set) var authenticated = false
    /// When false, `sendmail` and `sendMany` send MAIL, each RCPT and DATA one at a time and
    /// wait for each reply even if the server offers PIPELINING (each reply paired with its command).
    public var usePipelining = true

    init(conn: StreamConnection, address: String, host: String, timeout: TimeInterval, transcript: Transcript?,
         cancel: CancelCheck?, localName: String, greeting: SMTPReply, isTLS: Bool) {
        self.conn = conn; self.address = address; self.host = host; self.timeout = timeout
        self.transcript = transcript; self.cancel = cancel; self.localName = localName
        self.greeting = greeting; self.isTLS = isTLS; self.lastReply = greeting
    }

    /// Connects and reads the greeting (220). `tls` wraps the connection in TLS from the first
    /// byte (implicit TLS, port 465); STARTTLS is a later step (`startTLS`).
    public static func connect(_ address: String, tls: TLSOptions? = nil, timeout: TimeInterval = 30,
                               localName: String? = nil, transcript: Transcript? = nil,
                               cancel: CancelCheck? = nil) throws -> SMTPClient {
        let ep = try Endpoint(parsing: address, defaultPort: tls == nil ? 25 : 465)
        transcript?.record("smtp", .note, "connecting to \(ep)\(tls == nil ? "" : " (TLS)")")
        let conn: StreamConnection
        do { conn = try StreamConnection.connect(ep.description, timeout: timeout, tls: tls, transcript: nil, cancel: cancel) }
        catch let e as SocketError {
            transcript?.record("smtp", .note, "connect failed (\(e.kind.rawValue)): \(e.message)")
            throw e
        }
        transcript?.record("smtp", .note, "connected \(conn.localText) → \(conn.peerText)\(tls == nil ? "" : ", TLS handshake done")")
        let name = localName ?? SMTPClient.defaultLocalName()
        let probe = SMTPClient(conn: conn, address: ep.description, host: ep.host, timeout: timeout, transcript: transcript,
                               cancel: cancel, localName: name, greeting: SMTPReply(code: 0, lines: []), isTLS: tls != nil)
        let g: SMTPReply
        do { g = try probe.readReply("greeting from") } catch { conn.abandon(); throw error }
        guard g.code == 220 else {
            conn.abandon()
            throw SMTPError(.response, "connect \(ep): the server refused the session: \(g.code) \(g.text)", reply: g)
        }
        let client = SMTPClient(conn: conn, address: ep.description, host: ep.host, timeout: timeout, transcript: transcript,
                                cancel: cancel, localName: name, greeting: g, isTLS: tls != nil)
        return client
    }

    /// This machine's name for EHLO: its host name when it looks like a domain, else a literal.
    static func defaultLocalName() -> String {
        let h = HostLookup.hostname()
        let ok = !h.isEmpty && h.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x2E }
        return ok ? h : "[127.0.0.1]"
    }

    // MARK: the wire

    func disconnected(_ what: String) -> SMTPError {
        SMTPError(.disconnected, "\(what) \(address): the server closed the connection")
    }

    /// Reads one (possibly multi-line) reply, all of it within `timeout`.
    func readReply(_ what: String, timeout: TimeInterval? = nil) throws -> SMTPReply {
        let deadline = Date().addingTimeInterval(timeout ?? self.timeout)
        var lines: [String] = []
        var code: Int? = nil
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw SocketError(.timeout, "\(what) \(address): no reply within \(fmt(timeout ?? self.timeout)) s", address: address) }
            var data: [UInt8]
            do {
                guard let d = try conn.recvUntil([0x0A], max: SMTPReply.maxLineLength, timeout: left, what: "smtp reply") else {
                    throw disconnected(what)
                }
                data = d
            } catch let e as SocketError {
                switch e.kind {
                case .value: throw SMTPError(.response, "\(what) \(address): a reply line longer than \(SMTPReply.maxLineLength) bytes")
                case .reset, .closed: throw disconnected(what)
                case .timeout: throw SocketError(.timeout, "\(what) \(address): no reply within \(fmt(timeout ?? self.timeout)) s", address: address)
                default: throw e
                }
            }
            guard data.last == 0x0A else { throw disconnected(what) }
            data.removeLast()
            if data.last == 0x0D { data.removeLast() }
            let line = String(decoding: data, as: UTF8.self)
            transcript?.record("smtp", .server, line)
            guard let p = SMTPReply.parseLine(line) else {
                throw SMTPError(.response, "\(what) \(address): not an SMTP reply: \"\(Transcript.escape(data, limit: 120))\"")
            }
            if let c = code, c != p.code {
                throw SMTPError(.response, "\(what) \(address): a multi-line reply changed its code from \(c) to \(p.code)")
            }
            code = p.code
            lines.append(p.text)
            if !p.more {
                let r = SMTPReply(code: p.code, lines: lines)
                lastReply = r
                return r
            }
            if lines.count >= SMTPReply.maxLines {
                throw SMTPError(.response, "\(what) \(address): a reply of more than \(SMTPReply.maxLines) lines")
            }
        }
    }

    /// Sends bytes, turning a lost connection into `smtp.disconnected`.
    func write(_ bytes: [UInt8], _ what: String) throws {
        if isClosed { throw SMTPError(.disconnected, "\(what) \(address): the session is closed (quit was called)") }
        do { try conn.send(bytes, timeout: timeout) } catch let e as SocketError where e.kind == .reset || e.kind == .closed {
            throw SMTPError(.disconnected, "\(what) \(address): the connection was lost while sending (\(e.message))")
        }
    }

    /// Sends one command line (shown in the trace as `shown`, for masking) and reads the reply.
    @discardableResult
    public func command(_ line: String, shown: String? = nil) throws -> SMTPReply {
        guard !line.contains("\r") && !line.contains("\n") else {
            throw SMTPError(.value, "smtp: a command may not contain CR or LF")
        }
        transcript?.record("smtp", .client, shown ?? line)
        let verb = (shown ?? line).split(separator: " ").first.map(String.init) ?? line
        try write(Array((line + "\r\n").utf8), verb)
        return try readReply(verb)
    }

    func fmt(_ t: TimeInterval) -> String { t == t.rounded() ? String(Int(t)) : String(format: "%.1f", t) }

    // MARK: greeting

    /// EHLO: on 250 the extensions are parsed into `features`. Any other reply is `smtp.helo`.
    @discardableResult
    public func ehlo(_ name: String? = nil) throws -> SMTPReply {
        let r = try command("EHLO \(name ?? localName)")
        features = []
        doesESMTP = false
        guard r.code == 250 else { throw SMTPError(.helo, "EHLO \(address): the server refused EHLO: \(r.code) \(r.text)", reply: r) }
        doesESMTP = true
        greeted = true
        for line in r.lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let k = parts.first else { continue }
            var key = k.lowercased(), params = parts.count > 1 ? String(parts[1]) : ""
            // Old servers say "AUTH=LOGIN PLAIN".
            if key.hasPrefix("auth=") { params = String(key.dropFirst(5)) + (params.isEmpty ? "" : " " + params); key = "auth" }
            if let i = features.firstIndex(where: { $0.0 == key }) {
                if key == "auth" { features[i].1 += " " + params }
            } else {
                features.append((key, params))
            }
        }
        return r
    }

    /// HELO, for servers without ESMTP. Anything but 250 is `smtp.helo`.
    @discardableResult
    public func helo(_ name: String? = nil) throws -> SMTPReply {
        let r = try command("HELO \(name ?? localName)")
        features = []
        doesESMTP = false
        guard r.code == 250 else { throw SMTPError(.helo, "HELO \(address): the server refused HELO: \(r.code) \(r.text)", reply: r) }
        greeted = true
        return r
    }

    /// EHLO, falling back to HELO when the server does not know EHLO (5xx).
    public func ehloOrHelo() throws {
        if greeted { return }
        do { try ehlo() } catch let e as SMTPError where e.kind == .helo && (e.code ?? 0) >= 500 {
            try helo()
        }
    }

    /// The parameters of an extension ("" when offered without any), nil when not offered.
    public func feature(_ name: String) -> String? { features.first { $0.0 == name.lowercased() }?.1 }

    // MARK: STARTTLS and AUTH

    /// STARTTLS (RFC 3207): asks, upgrades the same socket, then EHLOs again; the features
    /// learnt before TLS are forgotten (a man in the middle could have changed them).
    public func startTLS(_ tls: TLSOptions) throws {
        if isTLS { throw SMTPError(.value, "STARTTLS \(address): the session already uses TLS") }
        try ehloOrHelo()
        guard feature("starttls") != nil else {
            throw SMTPError(.notSupported, "STARTTLS \(address): the server does not offer STARTTLS (EHLO lists: \(features.map { $0.0.uppercased() }.joined(separator: " ")))")
        }
        let r = try command("STARTTLS")
        guard r.code == 220 else { throw SMTPError(.response, "STARTTLS \(address): the server refused: \(r.code) \(r.text)", reply: r) }
        conn = try conn.startTLS(tls, host: host, timeout: timeout, command: "STARTTLS", shownPeer: address)
        isTLS = true
        transcript?.record("smtp", .note, "TLS handshake done with \(address); saying EHLO again")
        if let s = conn.tlsSummary { transcript?.record("smtp", .note, s) }
        features = []
        doesESMTP = false
        greeted = false
        try ehlo()
    }

    /// The AUTH mechanisms we use, in smtplib's order of preference.
    public static let authPreference = ["CRAM-MD5", "PLAIN", "LOGIN"]

    /// AUTH with the first mechanism both sides know (CRAM-MD5, PLAIN, LOGIN). The password
    /// and every AUTH payload show as `********` in the trace and never appear in an error.
    public func login(user: String, password: String) throws {
        try ehloOrHelo()
        guard let offered = feature("auth") else {
            throw SMTPError(.notSupported, "AUTH \(address): the server does not offer AUTH\(isTLS ? "" : " (many servers offer it only after STARTTLS)")")
        }
        let mechs = Set(offered.uppercased().split(separator: " ").map(String.init))
        let usable = SMTPClient.authPreference.filter { mechs.contains($0) }
        guard !usable.isEmpty else {
            throw SMTPError(.notSupported, "AUTH \(address): none of the server's mechanisms (\(offered)) is one we know (CRAM-MD5, PLAIN, LOGIN)")
        }
        var last: SMTPError? = nil
        for mech in usable {
            let r = try authenticate(mech, user: user, password: password)
            if r.code == 235 || r.code == 503 && r.text.lowercased().contains("already") {
                authenticated = true
                return
            }
            last = SMTPError(.auth, "AUTH \(mech) \(address): authentication failed: \(r.code) \(r.text)", reply: r)
            // 535 is a wrong user or password: trying the next mechanism would only repeat it.
            if r.code == 535 || r.code == 454 { break }
        }
        throw last!
    }

    func authenticate(_ mech: String, user: String, password: String) throws -> SMTPReply {
        let b64: (String) -> String = { Data($0.utf8).base64EncodedString() }
        let masked = Transcript.mask("x")
        switch mech {
        case "PLAIN":
            var r = try command("AUTH PLAIN " + b64("\u{0}\(user)\u{0}\(password)"), shown: "AUTH PLAIN \(masked)")
            if r.code == 334 { r = try command(b64("\u{0}\(user)\u{0}\(password)"), shown: masked) }
            return r
        case "LOGIN":
            var r = try command("AUTH LOGIN")
            guard r.code == 334 else { return r }
            r = try command(b64(user), shown: masked)
            guard r.code == 334 else { return r }
            return try command(b64(password), shown: masked)
        default: // CRAM-MD5
            let r = try command("AUTH CRAM-MD5")
            guard r.code == 334 else { return r }
            guard let challenge = Data(base64Encoded: r.text.trimmingCharacters(in: .whitespaces)) else {
                _ = try? command("*")
                throw SMTPError(.response, "AUTH CRAM-MD5 \(address): the challenge is not base64: \(r.text)", reply: r)
            }
            let digest = Digests.hmacMD5(key: Array(password.utf8), message: Array(challenge))
            let hex = digest.map { String(format: "%02x", $0) }.joined()
            return try command(b64("\(user) \(hex)"), shown: masked)
        }
    }

    // MARK: sending

    /// The result of one message: the recipients the server refused (the others have it).
    public typealias Refused = [(String, SMTPReply)]

    /// Sends one message to the recipients (smtplib's `sendmail`). The message is taken as
    /// RFC 5322 text: line ends are normalised to CRLF and leading dots doubled. Returns the
    /// refused recipients when at least one was accepted; throws `smtp.sender_refused`,
    /// `smtp.recipients_refused` (all refused), `smtp.data`, `smtp.disconnected`.
    /// Nothing is sent when the message cannot go as it is (a line over 998 octets, over the
    /// server's SIZE, 8-bit data without 8BITMIME, a non-ASCII address without SMTPUTF8).
    public func sendmail(from: String, to recipients: [String], message: [UInt8]) throws -> Refused {
        try ehloOrHelo()
        let env = try prepare(from: from, to: recipients, message: message)
        let mailLine = env.mailLine, rcptLines = env.rcptLines, wire = env.wire

        var mailReply: SMTPReply
        var rcptReplies: [SMTPReply] = []
        var dataReply: SMTPReply? = nil
        if usePipelining && feature("pipelining") != nil {
            // RFC 2920: the whole envelope and DATA in one write, the replies read in order.
            var batch = ""
            for l in [mailLine] + rcptLines + ["DATA"] {
                transcript?.record("smtp", .client, l)
                batch += l + "\r\n"
            }
            try write(Array(batch.utf8), "MAIL")
            mailReply = try readReply("MAIL")
            for _ in recipients { rcptReplies.append(try readReply("RCPT")) }
            dataReply = try readReply("DATA")
        } else {
            mailReply = try command(mailLine)
            if mailReply.code == 250 {
                for l in rcptLines { rcptReplies.append(try command(l)) }
            }
        }
        let refused: Refused
        switch judge(env, mailReply, rcptReplies) {
        case .success(let r): refused = r
        case .failure(let e):
            try abortTransaction(dataReply)
            throw e
        }
        let d = try dataReply ?? command("DATA")
        guard d.code == 354 else {
            _ = try? command("RSET")
            throw SMTPError(.data, "DATA \(address): the server refused DATA: \(d.code) \(d.text) (message not sent)", reply: d)
        }
        let end = try sendBody(wire)
        guard end.code == 250 else {
            throw SMTPError(.data, "DATA \(address): the server refused the message: \(end.code) \(end.text) (not sent)", reply: end)
        }
        return refused
    }

    /// One message's envelope and DATA bytes, checked against the server's extensions.
    struct Envelope {
        var from: String
        var recipients: [String]
        var mailLine: String
        var rcptLines: [String]
        var wire: [UInt8]
    }

    /// Checks addresses and the message and builds the envelope commands; nothing is sent.
    func prepare(from: String, to recipients: [String], message: [UInt8]) throws -> Envelope {
        for a in [from] + recipients where a.contains("\r") || a.contains("\n") {
            throw SMTPError(.value, "sendmail: the address \"\(Transcript.escape(Array(a.utf8), limit: 80))\" contains CR or LF")
        }
        guard !recipients.isEmpty else { throw SMTPError(.value, "sendmail: no recipients") }
        for a in recipients where a.isEmpty { throw SMTPError(.value, "sendmail: an empty recipient address") }
        let wire = try SMTPClient.dataBytes(message)
        var mailParams: [String] = []
        if let s = feature("size") {
            mailParams.append("SIZE=\(wire.count)")
            if let max = Int(s.split(separator: " ").first ?? ""), max > 0, wire.count > max {
                throw SMTPError(.data, "sendmail \(address): the message is \(wire.count) bytes, over the server's SIZE limit of \(max) (nothing sent)")
            }
        }
        if wire.contains(where: { $0 >= 0x80 }) {
            guard feature("8bitmime") != nil else {
                throw SMTPError(.notSupported, "sendmail \(address): the message has 8-bit data and the server does not offer 8BITMIME (nothing sent)")
            }
            mailParams.append("BODY=8BITMIME")
        }
        if ([from] + recipients).contains(where: { $0.utf8.contains { $0 >= 0x80 } }) {
            guard feature("smtputf8") != nil else {
                throw SMTPError(.notSupported, "sendmail \(address): a non-ASCII address needs SMTPUTF8, which the server does not offer (nothing sent)")
            }
            mailParams.append("SMTPUTF8")
        }
        return Envelope(from: from, recipients: recipients, mailLine: "MAIL FROM:<\(from)>" + mailParams.map { " " + $0 }.joined(),
                        rcptLines: recipients.map { "RCPT TO:<\($0)>" }, wire: wire)
    }

    /// The envelope's fate from its replies: the refused recipients, or why nothing can be sent.
    func judge(_ env: Envelope, _ mailReply: SMTPReply, _ rcptReplies: [SMTPReply]) -> Result<Refused, SMTPError> {
        if mailReply.code != 250 {
            return .failure(SMTPError(.senderRefused, "MAIL FROM \(address): the server refused the sender <\(env.from)>: \(mailReply.code) \(mailReply.text)", reply: mailReply))
        }
        var refused: Refused = []
        for (a, r) in zip(env.recipients, rcptReplies) where r.code != 250 && r.code != 251 { refused.append((a, r)) }
        if refused.count == env.recipients.count {
            var e = SMTPError(.recipientsRefused, "RCPT TO \(address): the server refused every recipient: "
                              + refused.map { "<\($0.0)> \($0.1.code) \($0.1.text)" }.joined(separator: "; "), reply: refused[0].1)
            e.recipients = refused
            return .failure(e)
        }
        return .success(refused)
    }

    /// Ends a transaction that will not carry a message: when a pipelined DATA was answered
    /// 354 anyway, an empty message is ended with "." first; then RSET.
    func abortTransaction(_ dataReply: SMTPReply?) throws {
        if dataReply?.code == 354 {
            transcript?.record("smtp", .client, ".")
            try write(Array(".\r\n".utf8), "DATA")
            _ = try readReply("DATA")
        }
        _ = try? command("RSET")
    }

    /// The trace shows a message by its first lines and size, not in full. Only the head is
    /// kept (the transcript holds thousands of steps; it must not hold every message).
    func recordBody(_ wire: [UInt8]) {
        guard let t = transcript else { return }
        var count = 0
        wire.withUnsafeBufferPointer { p in
            guard var cur = p.baseAddress else { return }
            let end = cur + p.count
            while cur < end, let hit = memchr(cur, 0x0A, end - cur) {
                count += 1
                cur = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) + 1
            }
        }
        let head = Array(wire.prefix(1024)), total = wire.count
        t.record("smtp", .client) {
            var lines: [String] = []
            var start = 0
            var i = 0
            while i + 1 < head.count && lines.count < 4 {
                if head[i] == 0x0D && head[i + 1] == 0x0A {
                    lines.append(Transcript.escape(head[start..<i], limit: 100))
                    start = i + 2
                    i += 2
                } else { i += 1 }
            }
            return lines.joined(separator: "\n") + "\n… (message: \(total) bytes, \(count) lines)\n."
        }
    }

    /// A message as DATA sends it: CRLF line ends (bare CR and LF become CRLF), leading dots
    /// doubled, a final CRLF. Lines over 998 octets are refused: folding a finished message
    /// would change it, so the builder folds and encodes instead.
    public static func dataBytes(_ message: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 40 + 8)
        var lineLen = 0
        var lineNo = 1
        var i = 0
        let n = message.count
        var atLineStart = true
        while i < n {
            let b = message[i]
            if b == 0x0D || b == 0x0A {
                out.append(0x0D); out.append(0x0A)
                if b == 0x0D && i + 1 < n && message[i + 1] == 0x0A { i += 1 }
                i += 1
                lineLen = 0; lineNo += 1; atLineStart = true
                continue
            }
            if atLineStart && b == 0x2E { out.append(0x2E) }
            atLineStart = false
            out.append(b)
            lineLen += 1
            if lineLen > 998 {
                throw SMTPError(.value, "sendmail: line \(lineNo) of the message is over 998 octets (RFC 5321 §4.5.3.1.6); nothing sent")
            }
            i += 1
        }
        if !atLineStart || out.isEmpty { out.append(0x0D); out.append(0x0A) }
        return out
    }

    // MARK: single steps (smtplib's mail, rcpt, data, docmd)

    /// Checks a command argument: CR or LF would end the command early and smuggle another.
    func checkLine(_ what: String, _ parts: [String]) throws {
        for p in parts where p.contains("\r") || p.contains("\n") {
            throw SMTPError(.value, "\(what): \"\(Transcript.escape(Array(p.utf8), limit: 80))\" contains CR or LF; nothing sent")
        }
    }

    /// MAIL FROM alone (smtplib's `mail`): the reply, whatever its code (a refusal is an answer
    /// here, not an error). `options` are ESMTP parameters ("SIZE=1000", "BODY=8BITMIME").
    public func mail(from: String, options: [String] = []) throws -> SMTPReply {
        try checkLine("mail", [from] + options)
        try ehloOrHelo()
        return try command("MAIL FROM:<\(from)>" + options.map { " " + $0 }.joined())
    }

    /// RCPT TO alone (smtplib's `rcpt`): the reply, whatever its code.
    public func rcpt(to: String, options: [String] = []) throws -> SMTPReply {
        try checkLine("rcpt", [to] + options)
        return try command("RCPT TO:<\(to)>" + options.map { " " + $0 }.joined())
    }

    /// DATA alone (smtplib's `data`): DATA, and on 354 the message (line ends made CRLF,
    /// leading dots doubled) and "."; returns the final reply. A refused DATA (not 354) is
    /// `smtp.data`, as smtplib raises SMTPDataError; the final reply is returned as it is.
    public func data(_ message: [UInt8]) throws -> SMTPReply {
        let wire = try SMTPClient.dataBytes(message)
        let d = try command("DATA")
        guard d.code == 354 else {
            throw SMTPError(.data, "DATA \(address): the server refused DATA: \(d.code) \(d.text) (message not sent)", reply: d)
        }
        return try sendBody(wire)
    }

    /// After the 354: the message and its ".", then the server's final reply. Both `sendmail`
    /// and `data` end their DATA here, so a lost connection or a silent server reads the same.
    private func sendBody(_ wire: [UInt8]) throws -> SMTPReply {
        recordBody(wire)
        do {
            try write(wire + Array(".\r\n".utf8), "DATA")
        } catch let e as SMTPError where e.kind == .disconnected {
            throw SMTPError(.disconnected, "DATA \(address): the connection was lost while sending the message; it was not sent")
        }
        do { return try readReply("DATA") } catch let e as SMTPError where e.kind == .disconnected {
            throw SMTPError(.disconnected, "DATA \(address): the server closed the connection before accepting the message; it was not sent")
        } catch let e as SocketError where e.kind == .timeout {
            throw SocketError(.timeout, "DATA \(address): no reply to the end of the message within \(fmt(timeout)) s; it was not confirmed as sent", address: address)
        }
    }

    /// Any command line (smtplib's `docmd`): the reply, whatever its code. CR or LF in it is a
    /// value error and nothing is sent.
    public func docmd(_ line: String) throws -> SMTPReply {
        try checkLine("docmd", [line])
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { throw SMTPError(.value, "docmd: an empty command; nothing sent") }
        return try command(line)
    }

    // MARK: other commands

    /// NOOP, RSET, VRFY: the reply, whatever its code (a 5xx VRFY is an answer, not an error).
    public func noop() throws -> SMTPReply { try command("NOOP") }
    /// RSET: drops the mail transaction under way (sender and recipients given so far); the session stays.
    public func rset() throws -> SMTPReply { try command("RSET") }
    /// VRFY `address`: the reply, whatever its code. CR or LF in `address` is an `SMTPError` of kind
    /// `value`, and nothing is sent.
    public func verify(_ address: String) throws -> SMTPReply {
        guard !address.contains("\r") && !address.contains("\n") else { throw SMTPError(.value, "verify: the address contains CR or LF") }
        return try command("VRFY \(address)")
    }

    /// QUIT, then close. A server that hangs up first is fine: the session is over either way.
    @discardableResult
    public func quit() -> SMTPReply? {
        if isClosed { return nil }
        let r = try? command("QUIT")
        close()
        return r
    }

    /// Closes the connection without QUIT (the server sees it drop); calling it again does nothing.
    public func close() {
        if isClosed { return }
        isClosed = true
        conn.close()
        transcript?.record("smtp", .note, "closed the session with \(address)")
    }
}
