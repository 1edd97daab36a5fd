import Foundation

extension FTPClient {
    /// An FTP session whose control connection is a stream already connected: any
    /// `ByteStream` (an in-memory `ScriptedStream` in tests, a connection made elsewhere).
    /// Reads the greeting (1xx lines, then 2xx) as `connect` does; no TLS upgrade is made.
    /// `host` and `port` name the server in messages and for data connections.
    public convenience init(over stream: any ByteStream, host: String, port: Int = 21, options: FTPOptions = FTPOptions(),
                            transcript: Transcript? = nil, cancel: CancelCheck? = nil) throws {
        let conn = StreamConnection(over: stream, proto: "tcp", cancel: cancel)
        let probe = FTPClient(host: host, port: port, options: options, control: conn, welcome: FTPReply(code: 0, lines: []),
                              transcript: transcript, cancel: cancel)
        let shown = "ftp.open \(probe.address)"
        var hello: FTPReply
        do {
            hello = try probe.readReply(doing: shown)
            while hello.kind == 1 { hello = try probe.readReply(doing: shown) }
            guard hello.kind == 2 else { throw FTPError.unexpected(hello, doing: "\(shown): the server's greeting") }
        } catch {
            conn.abandon()
            throw error
        }
        self.init(host: host, port: port, options: options, control: conn, welcome: hello, transcript: transcript, cancel: cancel)
        lastReply = hello
    }
}
