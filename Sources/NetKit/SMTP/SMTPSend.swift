import Foundation

extension SMTPClient {
    /// How `send(_:server:…)` protects the session.
    public enum Security: Sendable, Equatable {
        /// STARTTLS when the server offers it, plain otherwise; a password never goes in the clear.
        case opportunistic
        /// STARTTLS required: a server that does not offer it is an error.
        case startTLS
        /// TLS from the first byte (SMTPS, port 465).
        case implicit
        /// Plain text, even for a password (a lab server, or a network the caller trusts).
        case none
    }

    /// One message in one session — smtplib's `SMTP` + `sendmail` + `quit`: connect, EHLO (HELO
    /// when refused), STARTTLS as `security` says, AUTH when `credentials` are given, MAIL/RCPT/DATA,
    /// then QUIT. Returns the recipients the server refused (the others have the message); every
    /// recipient refused, the sender refused, or the data refused is an `SMTPError`.
    ///
    /// After a failure the session ends with QUIT when the server can still answer, and is
    /// closed at once when it went quiet or away (a QUIT would only wait out another timeout).
    public static func send(_ message: MailMessage, server: String, security: Security = .opportunistic,
                            tls: TLSOptions = TLSOptions(), credentials: (user: String, password: String)? = nil,
                            timeout: TimeInterval = 30, localName: String? = nil, transcript: Transcript? = nil,
                            cancel: CancelCheck? = nil) throws -> Refused {
        // The message is built before anything is sent, so a bad header costs no connection.
        let (from, recipients, text) = (try message.envelopeFrom(), try message.envelopeRecipients(), try message.render())
        let client = try connect(server, tls: security == .implicit ? tls : nil, timeout: timeout, localName: localName,
                                 transcript: transcript, cancel: cancel)
        do {
            try client.ehloOrHelo()
            if security == .startTLS || (security == .opportunistic && client.feature("starttls") != nil) {
                try client.startTLS(tls)
            }
            if let credentials {
                if !client.isTLS && security != .none {
                    throw SMTPError(.notSupported, "mail: \(client.address) does not offer STARTTLS and a password would go in the clear; refused (tls: \"none\" allows it)")
                }
                try client.login(user: credentials.user, password: credentials.password)
            }
            let refused = try client.sendmail(from: from, to: recipients, message: text)
            _ = client.quit()
            return refused
        } catch {
            if sessionIsUnusable(after: error) { client.close() } else { _ = client.quit() }
            throw error
        }
    }

    /// Whether a failure left the server unable to answer a QUIT: it went quiet, hung up,
    /// broke the protocol or the TLS layer, or the caller was interrupted.
    static func sessionIsUnusable(after error: Error) -> Bool {
        switch error {
        case let e as SMTPError: return e.kind == .disconnected || e.kind == .response
        case let e as SocketError: return [.timeout, .reset, .closed, .tls, .interrupted].contains(e.kind)
        default: return false
        }
    }
}
