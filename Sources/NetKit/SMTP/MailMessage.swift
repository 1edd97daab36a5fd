import Foundation

/// A file attached to a message: sent base64-encoded with a MIME type from its extension.
public struct MailAttachment: Sendable {
    /// The name the recipient sees (Content-Disposition, RFC 2231-encoded when not ASCII); its
    /// extension also picks the MIME type when `contentType` is nil. CR or LF in it is refused.
    public var filename: String
    /// The file's bytes, sent base64-encoded in 76-character lines.
    public var data: [UInt8]
    /// The MIME type; nil picks one from the file name's extension.
    public var contentType: String?
    /// An attachment named `filename`; its MIME type from the extension unless `contentType` is given.
    public init(filename: String, data: [UInt8], contentType: String? = nil) {
        self.filename = filename; self.data = data; self.contentType = contentType
    }
}

/// An email message to build (RFC 5322 and MIME): the envelope comes from From, To, Cc and Bcc,
/// the text from `render()`. Bcc recipients get the message but never appear in it.
public struct MailMessage: Sendable {
    /// The sender as written (`ann@example.test` or `Ann <ann@example.test>`); its address is the envelope sender.
    public var from: String
    /// The To recipients, each written like `from`.
    public var to: [String]
    /// The Cc recipients: in the Cc header and the envelope.
    public var cc: [String]
    /// The Bcc recipients: in the envelope only, never in a header.
    public var bcc: [String]
    /// The Subject header; empty leaves it out. Non-ASCII goes as RFC 2047 encoded-words.
    public var subject: String
    /// The plain-text part. Nil with `html` set sends HTML only; nil with neither sends an empty text part.
    public var body: String?
    /// The HTML part; with `body` as well, the two go as multipart/alternative, text first.
    public var html: String?
    /// Files sent after the text (then the message is multipart/mixed); empty for none.
    public var attachments: [MailAttachment]
    /// Extra headers in order ("Reply-To", "X-Mailer", …); "Date" and "Message-ID" here replace
    /// the generated ones.
    public var headers: [(String, String)]
    /// The time in the Date header (written in the local time zone) and in the generated Message-ID;
    /// a "Date" in `headers` replaces the header.
    public var date: Date

    /// A message from its parts; `date` defaults to now. Nothing is checked until `render()` or the
    /// envelope methods, which throw `SMTPError` of kind `value` for a bad address or header.
    public init(from: String, to: [String], cc: [String] = [], bcc: [String] = [], subject: String = "",
                body: String? = nil, html: String? = nil, attachments: [MailAttachment] = [],
                headers: [(String, String)] = [], date: Date = Date()) {
        self.from = from; self.to = to; self.cc = cc; self.bcc = bcc; self.subject = subject
        self.body = body; self.html = html; self.attachments = attachments; self.headers = headers; self.date = date
    }

    /// Headers the builder owns: set them through the message's fields instead.
    static let ownedHeaders: Set<String> = ["from", "to", "cc", "bcc", "subject", "mime-version",
                                            "content-type", "content-transfer-encoding", "content-disposition"]

    /// The envelope sender: the address inside From.
    public func envelopeFrom() throws -> String { try MailAddress(parsing: from, field: "from").address }

    /// Every envelope recipient: To, Cc and Bcc, each address once, in order.
    public func envelopeRecipients() throws -> [String] {
        var seen = Set<String>(), out: [String] = []
        for (field, list) in [("to", to), ("cc", cc), ("bcc", bcc)] {
            for a in list {
                let addr = try MailAddress(parsing: a, field: field).address
                if seen.insert(addr.lowercased()).inserted { out.append(addr) }
            }
        }
        return out
    }

    /// The message as sent: CRLF line ends, no line over 998 octets, only ASCII unless an
    /// address itself is non-ASCII (which needs SMTPUTF8). CR or LF in any header value or
    /// address is an error of kind `value`.
    public func render() throws -> [UInt8] {
        var h: [(String, String)] = []
        let fromAddr = try MailAddress(parsing: from, field: "from")
        let custom = try headers.map { (name, value) -> (String, String) in
            guard !name.isEmpty, name.count <= 76, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }) else {
                throw SMTPError(.value, "mail: \"\(Transcript.escape(Array(name.utf8), limit: 60))\" is not a header name (printable ASCII, no spaces or colons)")
            }
            guard !MailMessage.ownedHeaders.contains(name.lowercased()) else {
                throw SMTPError(.value, "mail: set the \(name) header with the \(name.lowercased()): option, not headers:")
            }
            try MailMessage.checkLine(value, "the \(name) header")
            return (name, value)
        }
        let customDate = custom.first { $0.0.lowercased() == "date" }?.1
        let customID = custom.first { $0.0.lowercased() == "message-id" }?.1
        h.append(("Date", customDate ?? MailMessage.dateText(date)))
        h.append(("From", fromAddr.headerText(firstRoom: MailMessage.room("From"))))
        func list(_ name: String, _ addrs: [String], _ field: String) throws -> String {
            try addrs.enumerated().map { i, a in
                try MailAddress(parsing: a, field: field).headerText(firstRoom: i == 0 ? MailMessage.room(name) : MailMessage.wordLimit)
            }.joined(separator: ", ")
        }
        if !to.isEmpty { h.append(("To", try list("To", to, "to"))) }
        if !cc.isEmpty { h.append(("Cc", try list("Cc", cc, "cc"))) }
        for b in bcc { _ = try MailAddress(parsing: b, field: "bcc") }
        try MailMessage.checkLine(subject, "the subject")
        if !subject.isEmpty { h.append(("Subject", MailMessage.encodeWords(subject, firstRoom: MailMessage.room("Subject")))) }
        let domain = fromAddr.address.split(separator: "@").last.map(String.init) ?? "localhost"
        let asciiDomain = domain.utf8.allSatisfy { $0 < 0x80 } ? domain : "localhost"
        h.append(("Message-ID", customID ?? "<\(MailMessage.randomHex(16)).\(Int(date.timeIntervalSince1970))@\(asciiDomain)>"))
        for (k, v) in custom where !["date", "message-id"].contains(k.lowercased()) {
            h.append((k, MailMessage.encodeWords(v, firstRoom: MailMessage.room(k))))
        }
        h.append(("MIME-Version", "1.0"))

        var content = mainPart()
        if !attachments.isEmpty {
            var parts = [content]
            for a in attachments {
                try MailMessage.checkLine(a.filename, "an attachment's file name")
                let type = a.contentType ?? MediaTypes.forFileName(a.filename)
                try MailMessage.checkLine(type, "an attachment's content type")
                let name = MailMessage.paramText("name", a.filename)
                parts.append(MIMEPart(headers: [("Content-Type", "\(type); \(name)"),
                                                ("Content-Transfer-Encoding", "base64"),
                                                ("Content-Disposition", "attachment; " + MailMessage.paramText("filename", a.filename))],
                                      body: MailMessage.base64Lines(a.data)))
            }
            content = MIMEPart.multipart("mixed", parts)
        }
        var out: [UInt8] = []
        for (k, v) in h + content.headers { out += MailMessage.foldHeader(k, v) }
        out += [0x0D, 0x0A]
        out += content.body
        return out
    }

    /// The text and/or HTML: one part, or multipart/alternative when there are both.
    func mainPart() -> MIMEPart {
        let text = MailMessage.textPart("plain", body ?? (html == nil ? "" : nil))
        let htmlPart = MailMessage.textPart("html", html)
        switch (text, htmlPart) {
        case (let t?, let h?): return MIMEPart.multipart("alternative", [t, h])
        case (let t?, nil): return t
        case (nil, let h?): return h
        default: return MailMessage.textPart("plain", "")!
        }
    }

    static func textPart(_ subtype: String, _ text: String?) -> MIMEPart? {
        guard let text else { return nil }
        let enc = encodeBody(text)
        return MIMEPart(headers: [("Content-Type", "text/\(subtype); charset=\"\(enc.charset)\""),
                                  ("Content-Transfer-Encoding", enc.cte)], body: enc.body)
    }

    /// Refuses CR and LF: in a header they would start a header (or a body) of the sender's choosing.
    static func checkLine(_ s: String, _ what: String) throws {
        if s.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) || s.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw SMTPError(.value, "mail: \(what) contains CR or LF (header injection refused; nothing sent)")
        }
    }

    // MARK: encodings

    /// Text as a body: 7bit when it is ASCII with short lines, otherwise the shorter of
    /// quoted-printable and base64 (as Python's email does). Line ends become CRLF and the
    /// text ends with one.
    public static func encodeBody(_ text: String) -> (cte: String, charset: String, body: [UInt8]) {
        var canon: [UInt8] = []
        let u = Array(text.utf8)
        var i = 0
        while i < u.count {
            if u[i] == 0x0D || u[i] == 0x0A {
                canon += [0x0D, 0x0A]
                if u[i] == 0x0D && i + 1 < u.count && u[i + 1] == 0x0A { i += 1 }
            } else { canon.append(u[i]) }
            i += 1
        }
        if !(canon.count >= 2 && canon[canon.count - 2] == 0x0D && canon.last == 0x0A) { canon += [0x0D, 0x0A] }
        let ascii = canon.allSatisfy { $0 < 0x80 }
        var longest = 0, run = 0
        for b in canon { if b == 0x0A { longest = max(longest, run); run = 0 } else if b != 0x0D { run += 1 } }
        // 7bit also means no lone dots turning into the end of DATA: dot-stuffing handles those.
        if ascii && longest <= 998 && !canon.contains(0) { return ("7bit", "us-ascii", canon) }
        let qp = quotedPrintable(canon)
        let b64 = base64Lines(canon)
        return qp.count <= b64.count ? ("quoted-printable", "utf-8", qp) : ("base64", "utf-8", b64)
    }

    /// Quoted-printable (RFC 2045 §6.7) of text whose line ends are CRLF: hard breaks kept,
    /// soft breaks keep every line within 76 characters.
    public static func quotedPrintable(_ canon: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var lineLen = 0
        var i = 0
        func emit(_ token: [UInt8]) {
            if lineLen + token.count > 75 { out += [0x3D, 0x0D, 0x0A]; lineLen = 0 }
            out += token; lineLen += token.count
        }
        while i < canon.count {
            let b = canon[i]
            if b == 0x0D && i + 1 < canon.count && canon[i + 1] == 0x0A {
                out += [0x0D, 0x0A]; lineLen = 0; i += 2; continue
            }
            let atLineEnd = i + 1 >= canon.count || canon[i + 1] == 0x0D
            let literal = (b >= 33 && b <= 126 && b != 0x3D) || ((b == 0x20 || b == 0x09) && !atLineEnd)
            // A dot at a line's start is fine (dot-stuffing), but "From " is left to the server.
            emit(literal ? [b] : [0x3D, hex[Int(b >> 4)], hex[Int(b & 15)]])
            i += 1
        }
        return out
    }

    /// Base64 in 76-character lines, each ending in CRLF.
    public static func base64Lines(_ data: [UInt8]) -> [UInt8] {
        if data.isEmpty { return [] }
        let s = Array(Data(data).base64EncodedString().utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.count + s.count / 38 + 2)
        var i = 0
        while i < s.count {
            let end = min(s.count, i + 76)
            out += s[i..<end]
            out += [0x0D, 0x0A]
            i = end
        }
        return out
    }

    /// A line holding encoded-words is at most 76 characters (RFC 2047 §2), as Python writes them.
    static let encodedLineLimit = 76
    /// An encoded-word on a continuation line (after its leading space).
    static let wordLimit = encodedLineLimit - 1
    /// The room left for the first encoded-word on a header's first line: `Name: ` comes first.
    static func room(_ headerName: String) -> Int { max(20, encodedLineLimit - headerName.utf8.count - 2) }

    /// A header value as it may appear: ASCII as is, anything else as RFC 2047 encoded-words
    /// (UTF-8, base64), split on character boundaries. The first word fits in `firstRoom`
    /// characters, the others in 73, so folded at spaces every line stays within 76.
    public static func encodeWords(_ value: String, force: Bool = false, firstRoom: Int = 75) -> String {
        let longWord = value.split(separator: " ").contains { $0.utf8.count > 900 }
        if !force && value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && !longWord && !value.contains("=?") { return value }
        // "=?utf-8?b?" + base64 + "?=": 12 characters around 4 for every 3 bytes.
        func bytesFor(_ room: Int) -> Int { max(3, (min(room, 73) - 12) / 4 * 3) }
        var limit = bytesFor(firstRoom)
        var words: [String] = []
        var chunk: [UInt8] = []
        for ch in value {
            let bytes = Array(String(ch).utf8)
            if chunk.count + bytes.count > limit, !chunk.isEmpty {
                limit = bytesFor(wordLimit)
                words.append("=?utf-8?b?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?utf-8?b?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: " ")
    }

    /// `Name: value` folded at spaces into lines of about 78 characters (76 where the value has
    /// encoded-words, RFC 2047 §2), ending in CRLF.
    static func foldHeader(_ name: String, _ value: String) -> [UInt8] {
        var lines: [String] = []
        var current = name + ":"
        let limit = value.contains("=?") ? encodedLineLimit : 78
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            if current.utf8.count + 1 + word.utf8.count > limit && current.utf8.count > name.utf8.count + 1 {
                lines.append(current)
                current = ""
            }
            current += " " + word
        }
        lines.append(current)
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// `name="file.pdf"`, or RFC 2231 `name*=utf-8''…` for a non-ASCII name.
    static func paramText(_ key: String, _ value: String) -> String {
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return "\(key)=\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let safe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~".utf8)
        let enc = value.utf8.map { safe.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
        return "\(key)*=utf-8''\(enc)"
    }

    /// RFC 5322 date: "Wed, 25 Nov 2026 11:43:56 +0000".
    public static func dateText(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone.current
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: d)
    }

    static func randomHex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

}

/// One MIME entity: its headers and its encoded body.
struct MIMEPart {
    var headers: [(String, String)]
    var body: [UInt8]

    /// A multipart entity whose boundary appears in none of its parts.
    static func multipart(_ subtype: String, _ parts: [MIMEPart]) -> MIMEPart {
        var boundary: String
        var rendered: [[UInt8]] = parts.map { p in
            var b: [UInt8] = []
            for (k, v) in p.headers { b += MailMessage.foldHeader(k, v) }
            return b + [0x0D, 0x0A] + p.body
        }
        repeat {
            boundary = "=_NetScript_" + MailMessage.randomHex(12)
        } while rendered.contains { containsBytes($0, Array(boundary.utf8)) }
        var body: [UInt8] = []
        for i in rendered.indices {
            body += Array("--\(boundary)\r\n".utf8)
            body += rendered[i]
            if !(body.count >= 2 && body[body.count - 2] == 0x0D && body.last == 0x0A) { body += [0x0D, 0x0A] }
            // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), not to the part.
            body += [0x0D, 0x0A]
        }
        body += Array("--\(boundary)--\r\n".utf8)
        rendered = []
        return MIMEPart(headers: [("Content-Type", "multipart/\(subtype); boundary=\"\(boundary)\"")], body: body)
    }

    static func containsBytes(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count else { return false }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return true }
        return false
    }
}

/// One address as written by a user: "a@example.test" or "Ann Example <a@example.test>".
public struct MailAddress: Sendable {
    /// The display name, unquoted; empty when only an address was given.
    public var name: String
    /// The bare address (`ann@example.test`), without the name or angle brackets.
    public var address: String

    /// Parses `ann@example.test` or `Ann <ann@example.test>` (a quoted name is unquoted). Throws
    /// `SMTPError` of kind `value`, naming `field` ("to", "cc"…), for CR or LF, an address without `@`
    /// or with spaces, commas or brackets, an address over 320 bytes or a name over 900.
    public init(parsing text: String, field: String) throws {
        try MailMessage.checkLine(text, "the \(field) address")
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix(">"), let lt = t.lastIndex(of: "<") {
            address = String(t[t.index(after: lt)..<t.index(before: t.endIndex)]).trimmingCharacters(in: .whitespaces)
            var n = String(t[..<lt]).trimmingCharacters(in: .whitespaces)
            if n.count >= 2 && n.hasPrefix("\"") && n.hasSuffix("\"") {
                n = String(n.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
            }
            name = n
        } else {
            address = t; name = ""
        }
        guard !address.isEmpty, !address.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "," || $0 == "\t" }),
              address.contains("@"), !address.hasPrefix("@"), !address.hasSuffix("@") else {
            throw SMTPError(.value, "mail: \(field): \"\(text)\" is not an email address (like \"ann@example.test\" or \"Ann <ann@example.test>\")")
        }
        guard address.utf8.count <= 320, name.utf8.count <= 900 else {
            throw SMTPError(.value, "mail: \(field): the address or its name is too long (at most 320 and 900 bytes)")
        }
    }

    /// The address for a header: the display name quoted or encoded as needed.
    public var headerText: String { headerText(firstRoom: MailMessage.wordLimit) }

    /// The same, its first encoded-word (if any) fitting in `firstRoom` characters. A name that
    /// looks like an encoded-word (`=?utf-8?q?x?=`) is encoded, so readers show it as written.
    public func headerText(firstRoom: Int) -> String {
        if name.isEmpty { return address }
        let atext = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~ ".utf8)
        let shown: String
        if !name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) || name.utf8.count > 400 || name.contains("=?") {
            shown = MailMessage.encodeWords(name, force: true, firstRoom: firstRoom)
        }
        else if name.utf8.allSatisfy({ atext.contains($0) }) { shown = name }
        else { shown = "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        return "\(shown) <\(address)>"
    }
}
