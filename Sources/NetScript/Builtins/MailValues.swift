import Foundation
import NetKit
import OrderedCollections

/// SMTP sessions and built messages as language values, and SMTP errors as diagnostics.

/// Runs an SMTP step, turning NetKit's errors into diagnostics: `smtp.*` kinds with the
/// server's code and reply as `e.code` / `e.reply`, socket kinds (`refused`, `timeout`, `tls`…)
/// as the socket builtins raise them.
func smtpCall<T>(_ body: () throws -> T) throws -> T {
    do { return try sock(body) } catch let e as SMTPError { throw smtpDiagnostic(e) }
}

func smtpDiagnostic(_ e: SMTPError) -> Diagnostic {
    var fields: [(String, Value)] = []
    if let c = e.code { fields.append(("code", .int(c))) }
    if let r = e.reply { fields.append(("reply", .string(r))) }
    if !e.recipients.isEmpty { fields.append(("recipients", smtpRefusedMap(e.recipients))) }
    return Diagnostic(e.kind.rawValue, e.message, cause: e.reply.map { "\(e.code ?? 0) \($0)" }, fields: fields)
}

/// A reply as a value: `{code: 250, text: "…"}`.
func smtpReplyValue(_ r: SMTPReply) -> Value {
    .native(RecordObject("smtp_reply", ["code": .int(r.code), "text": .string(r.text)]))
}

/// Refused recipients as `{"bad@x": {code: 550, text: "…"}}` (smtplib's dict of tuples).
func smtpRefusedMap(_ refused: [(String, SMTPReply)]) -> Value {
    .map(refused.map { ($0.0, Value.map([("code", .int($0.1.code)), ("text", .string($0.1.text))])) })
}

final class SMTPSessionValue: NativeObject {
    let client: SMTPClient
    init(_ client: SMTPClient) { self.client = client }
    deinit { client.conn.abandon() }
    override var typeName: String { "smtp_session" }
    override var description: String {
        "<smtp_session \(client.address)\(client.isTLS ? " tls" : "")\(client.isClosed ? " closed" : "")>"
    }
    override var fieldNames: [String] { ["address", "esmtp_features", "does_esmtp", "last_reply", "greeting", "tls", "certificate", "authenticated", "closed"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "address": return .string(client.address)
        case "esmtp_features": return .map(client.features.map { ($0.0, Value.string($0.1)) })
        case "does_esmtp": return .bool(client.doesESMTP)
        case "last_reply": return client.lastReply.map(smtpReplyValue) ?? .nil
        case "greeting": return smtpReplyValue(client.greeting)
        case "tls": return .bool(client.isTLS)
        case "certificate": return client.isTLS ? try CertificateValue.peer(of: client.conn) : .nil
        case "authenticated": return .bool(client.authenticated)
        case "closed": return .bool(client.isClosed)
        default: return nil
        }
    }
}

/// A message built by `mail.message`: its text is fixed (Date and Message-ID included) so it
/// can be sent, saved or printed as it is.
final class MailMessageValue: NativeObject {
    let message: MailMessage
    let bytes: [UInt8]
    let envelopeFrom: String
    let recipients: [String]
    init(_ message: MailMessage) throws {
        self.message = message
        self.bytes = try message.render()
        self.envelopeFrom = try message.envelopeFrom()
        self.recipients = try message.envelopeRecipients()
    }
    override var typeName: String { "mail_message" }
    override var description: String {
        "<mail_message from \(envelopeFrom) to \(recipients.count) recipient\(recipients.count == 1 ? "" : "s"), \(bytes.count) bytes>"
    }
    override var fieldNames: [String] { ["from", "to", "cc", "bcc", "subject", "recipients", "text", "size"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "from": return .string(message.from)
        case "to": return .list(message.to.map { .string($0) })
        case "cc": return .list(message.cc.map { .string($0) })
        case "bcc": return .list(message.bcc.map { .string($0) })
        case "subject": return .string(message.subject)
        case "recipients": return .list(recipients.map { .string($0) })
        case "text": return .string(String(decoding: bytes, as: UTF8.self))
        case "size": return .int(bytes.count)
        default: return nil
        }
    }
}
