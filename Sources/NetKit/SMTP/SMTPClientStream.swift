import Foundation

extension SMTPClient {
    /// An SMTP session over a stream that is already connected: any `ByteStream` (an
    /// in-memory `ScriptedStream` in tests, a connection made elsewhere). Reads the greeting
    /// (220) as `connect` does. `address` names the server in messages and `host` is the
    /// name STARTTLS would verify; `tls` says whether the stream is already encrypted.
    public convenience init(over stream: any ByteStream, address: String, host: String? = nil, tls: Bool = false,
                            timeout: TimeInterval = 30, localName: String? = nil, transcript: Transcript? = nil,
                            cancel: CancelCheck? = nil) throws {
        let conn = StreamConnection(over: stream, proto: tls ? "tls" : "tcp", cancel: cancel)
        let host = host ?? ((try? Endpoint.split(address).host) ?? address)
        let name = localName ?? SMTPClient.defaultLocalName()
        let probe = SMTPClient(conn: conn, address: address, host: host, timeout: timeout, transcript: transcript,
                               cancel: cancel, localName: name, greeting: SMTPReply(code: 0, lines: []), isTLS: tls)
        let g: SMTPReply
        do { g = try probe.readReply("greeting from") } catch { conn.abandon(); throw error }
        guard g.code == 220 else {
            conn.abandon()
            throw SMTPError(.response, "connect \(address): the server refused the session: \(g.code) \(g.text)", reply: g)
        }
        self.init(conn: conn, address: address, host: host, timeout: timeout, transcript: transcript,
                  cancel: cancel, localName: name, greeting: g, isTLS: tls)
    }
}
