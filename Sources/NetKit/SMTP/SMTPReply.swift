import Foundation

/// One SMTP reply: a three-digit code and its text lines (`250-…` continuation lines joined).
public struct SMTPReply: Sendable, CustomStringConvertible {
    /// The three-digit reply code (RFC 5321 §4.2.1): 2xx done, 3xx send more, 4xx try later, 5xx refused.
    public var code: Int
    /// The text of each line, without the code and separator.
    public var lines: [String]
    /// A reply from its code and text lines (without code or separator).
    public init(code: Int, lines: [String]) { self.code = code; self.lines = lines }
    /// The lines joined with newlines, as smtplib shows a reply's message.
    public var text: String { lines.joined(separator: "\n") }
    /// True for 2xx and 3xx: the command was accepted (3xx: the server waits for more, as after DATA).
    public var isPositive: Bool { code >= 200 && code < 400 }
    /// `250 first line / second line`: code and lines on one line, for errors and logs.
    public var description: String { "\(code) \(lines.joined(separator: " / "))" }

    /// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512 octets; servers pad more).
    public static let maxLineLength = 4096
    /// Most lines one reply may have: a server sending forever is an error, not a hang.
    public static let maxLines = 1000

    /// Parses one reply line: the code, whether more lines follow, and the text. Nil when the
    /// line is not `DDD`, `DDD text`, or `DDD-text`.
    static func parseLine(_ line: String) -> (code: Int, more: Bool, text: String)? {
        let u = Array(line.utf8)
        guard u.count >= 3, u[0] >= 0x32, u[0] <= 0x35, u[1] >= 0x30, u[1] <= 0x39, u[2] >= 0x30, u[2] <= 0x39 else { return nil }
        let code = Int(u[0] - 0x30) * 100 + Int(u[1] - 0x30) * 10 + Int(u[2] - 0x30)
        if u.count == 3 { return (code, false, "") }
        guard u[3] == 0x20 || u[3] == 0x2D else { return nil }
        return (code, u[3] == 0x2D, String(decoding: u[4...], as: UTF8.self))
    }
}

/// An SMTP failure, named after smtplib's exceptions (`smtp.helo` = SMTPHeloError, …), with the
/// server's code and text when the server said something.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// The error kinds, after smtplib's exceptions; the raw value is the kind a script catches.
    /// `helo`: EHLO and HELO refused. `auth`: the credentials were rejected. `notSupported`: a needed
    /// extension (STARTTLS, AUTH, 8BITMIME, SMTPUTF8) is not offered. `recipientsRefused`: every RCPT
    /// was refused. `senderRefused`: MAIL FROM was refused. `data`: DATA or the message was refused, or
    /// the message is over the server's SIZE. `disconnected`: the server closed or the connection broke
    /// (or the session was already closed). `response`: a reply that is not SMTP, too long, or an
    /// unexpected code.
    public enum Kind: String, Sendable {
        case helo = "smtp.helo", auth = "smtp.auth", notSupported = "smtp.not_supported"
        case recipientsRefused = "smtp.recipients_refused", senderRefused = "smtp.sender_refused"
        case data = "smtp.data", disconnected = "smtp.disconnected", response = "smtp.response"
        /// A message or argument that cannot be sent as given (CR/LF in a header, a bad address).
        case value
    }
    /// What went wrong, as a kind a caller can switch on.
    public var kind: Kind
    /// A sentence naming the command and server; never contains a password or AUTH payload.
    public var message: String
    /// The server's reply code, when the failure was a reply.
    public var code: Int?
    /// The server's reply text.
    public var reply: String?
    /// For `smtp.recipients_refused`: each refused recipient and the server's reply to it.
    public var recipients: [(String, SMTPReply)] = []

    /// An error of `kind`; `reply`, when given, fills `code` and `reply`.
    public init(_ kind: Kind, _ message: String, reply: SMTPReply? = nil) {
        self.kind = kind; self.message = message; self.code = reply?.code; self.reply = reply?.text
    }
    /// The message alone.
    public var description: String { message }
}
