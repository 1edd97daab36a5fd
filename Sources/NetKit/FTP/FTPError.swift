import Foundation

/// An FTP failure, by what a script can act on: an unexpected reply (`ftp.reply`), a
/// transient (4xx, `ftp.temp`) or permanent (5xx, `ftp.perm`) refusal, a reply that is not
/// FTP (`ftp.proto`), or a socket failure of the control or data connection (`timeout`,
/// `refused`, `closed`, `reset`, `tls`, …). Carries the server's reply when there was one.
public struct FTPError: Error, CustomStringConvertible, Sendable {
    /// The reply kinds (raw value `ftp.*`): `reply` an unexpected code that is not a failure, `temp`
    /// 4xx, `perm` 5xx, `proto` a reply that is not FTP or too long. The others have the names of
    /// `SocketError.Kind`, so a script catches them alike: `timeout`, `refused`, `closed` (the server
    /// closed, or the session was quit), `reset`, `unreachable`, `resolve`, `tls`, `io` (also a
    /// local file failure); `value` a bad argument (nothing sent); `interrupted` the cancel check.
    public enum Kind: String, Sendable {
        case reply = "ftp.reply", temp = "ftp.temp", perm = "ftp.perm", proto = "ftp.proto"
        case timeout, refused, closed, reset, unreachable, resolve, tls, io, value, interrupted
    }
    /// What went wrong, as a kind a caller can switch on.
    public var kind: Kind
    /// A sentence naming the step (`ftp.cwd /pub`) and, for a reply, its text; never the password.
    public var message: String
    /// The server's reply that caused the error; nil for socket and local failures.
    public var reply: FTPReply?
    /// For a transfer that stopped part-way: the bytes that reached their destination.
    public var partialBytes: Int64?

    /// An error of `kind`, with the reply and the bytes that arrived before a transfer stopped, when known.
    public init(_ kind: Kind, _ message: String, reply: FTPReply? = nil, partialBytes: Int64? = nil) {
        self.kind = kind; self.message = message; self.reply = reply; self.partialBytes = partialBytes
    }
    /// The message alone.
    public var description: String { message }

    /// The error for a reply that is not the one expected: by its first digit.
    static func unexpected(_ r: FTPReply, doing what: String) -> FTPError {
        let kind: Kind = r.kind == 4 ? .temp : r.kind == 5 ? .perm : .reply
        return FTPError(kind, "\(what): \(r.description.replacingOccurrences(of: "\n", with: " / "))", reply: r)
    }

    static func from(_ e: Error, doing what: String) -> FTPError {
        if let f = e as? FTPError { return f }
        let s = SocketError.from(e, op: what, address: "")
        let k = Kind(rawValue: s.kind.rawValue) ?? .io
        return FTPError(k, s.message.hasPrefix(what) ? s.message : "\(what): \(s.message)")
    }
}
