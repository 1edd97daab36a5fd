import Foundation

/// An FTP failure, by what a script can act on: an unexpected reply (`ftp.reply`), a
/// transient (4xx, `ftp.temp`) or permanent (5xx, `ftp.perm`) refusal, a reply that is not
/// FTP (`ftp.proto`), or a socket failure of the control or data connection (`timeout`,
/// `refused`, `closed`, `reset`, `tls`, …). Carries the server's reply when there was one.
public struct FTPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case reply = "ftp.reply", temp = "ftp.temp", perm = "ftp.perm", proto = "ftp.proto"
        case timeout, refused, closed, reset, unreachable, resolve, tls, io, value, interrupted
    }
    public var kind: Kind
    public var message: String
    public var reply: FTPReply?
    /// For a transfer that stopped part-way: the bytes that reached their destination.
    public var partialBytes: Int64?

    public init(_ kind: Kind, _ message: String, reply: FTPReply? = nil, partialBytes: Int64? = nil) {
        self.kind = kind; self.message = message; self.reply = reply; self.partialBytes = partialBytes
    }
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
