import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How an FTP session uses TLS: not at all, `AUTH TLS` on the plain control connection
/// (explicit FTPS, RFC 4217), or TLS from the first byte (implicit FTPS, port 990).
public enum FTPTLSMode: String, Sendable { case none, explicit, implicit }

/// What `FTPClient.connect` needs besides the address.
public struct FTPOptions: Sendable {
    /// Whether and how the session uses TLS; `.none` (plain FTP) unless set.
    public var tls: FTPTLSMode = .none
    /// Certificate checks for FTPS. The name checked defaults to the host connected to, and data
    /// connections (to whatever address PASV names) are checked against that same name.
    public var tlsOptions = TLSOptions()
    /// Seconds any one wait may take: connecting, a reply, a data connection going idle.
    public var timeout: TimeInterval = 30
    /// Passive (EPSV, then PASV) unless false: then active (EPRT, then PORT).
    public var passive = true
    /// Use the address in a PASV reply. Off by default: the control connection's peer is
    /// used instead, as ftplib does, so a server cannot point us at a third host (FTP bounce).
    public var trustPasv = false
    /// Defaults: plain FTP, passive mode, 30 s timeout, PASV addresses not trusted.
    public init() {}
}

/// A client FTP session (RFC 959, with RFC 2428 EPSV/EPRT, RFC 3659 MLSD/SIZE/MDTM/REST and
/// RFC 4217 FTPS): a control connection carrying commands and replies, and one data
/// connection per transfer or listing. Every call blocks, each wait bounded by the timeout
/// and the cancel check. Every step is reported to the transcript (`C:`/`S:` lines, with
/// the password masked, and one note per data connection).
public final class FTPClient: @unchecked Sendable {
    /// The host as given in the address (a name or an address literal, brackets removed).
    public let host: String
    /// The control connection's port: as given, else 21 (990 for implicit FTPS).
    public let port: Int
    /// The options the session was opened with (with the TLS server name filled in).
    public let options: FTPOptions
    /// Where the `C:`/`S:` lines and one note per data connection go; nil records nothing.
    public let transcript: Transcript?
    let cancel: CancelCheck?
    var control: StreamConnection
    /// The control connection (for its TLS facts: `peerCertificates()`, `tlsSummary`).
    public var controlConnection: StreamConnection { control }
    /// The server's greeting (the first 2xx reply after connecting).
    public private(set) var welcome: FTPReply
    /// The last reply read on the control connection.
    public internal(set) var lastReply: FTPReply?
    /// The user name of the last successful `login`; nil before one.
    public private(set) var user: String?
    /// The FEAT lines read at login (`MLST type*;size*;`, `EPSV`, `UTF8`…), trimmed; empty when the
    /// server has no FEAT.
    public private(set) var features: [String] = []
    /// True after `quit` or `close`; later commands fail with kind `closed`.
    public private(set) var isClosed = false
    /// Data connections are TLS (PROT P) once that is agreed.
    var protectData = false
    var epsvFailed = false
    var eprtFailed = false
    var currentType: String? = nil
    var cachedPwd: String? = nil

    init(host: String, port: Int, options: FTPOptions, control: StreamConnection, welcome: FTPReply,
         transcript: Transcript?, cancel: CancelCheck?) {
        self.host = host; self.port = port; self.options = options; self.control = control
        self.welcome = welcome; self.transcript = transcript; self.cancel = cancel
    }

    /// "host:port" as the user gave it, for messages.
    public var address: String { Endpoint(host: host, port: port).description }
    /// True when the control connection runs over TLS (implicit FTPS, or after AUTH TLS).
    public var isTLS: Bool { control.proto == "tls" }
    /// Whether data connections are passive (the client connects), from `options.passive`.
    public var passive: Bool { options.passive }

    // MARK: connecting

    /// Connects, reads the greeting and, for explicit FTPS, upgrades with `AUTH TLS`.
    /// `address` is "HOST[:PORT]" (port 21, or 990 for implicit FTPS).
    public static func connect(_ address: String, options: FTPOptions = FTPOptions(), transcript: Transcript? = nil,
                               cancel: CancelCheck? = nil) throws -> FTPClient {
        let ep: Endpoint
        do { ep = try Endpoint(parsing: address, defaultPort: options.tls == .implicit ? 990 : 21) }
        catch { throw FTPError(.value, "ftp.open \(address): \(error)") }
        let shown = "ftp.open \(ep)"
        var tlsOpts = options.tlsOptions
        // The data connections (to whatever address PASV names) check the control host's identity.
        if tlsOpts.serverName == nil { tlsOpts.serverName = ep.host }
        let conn: StreamConnection
        do {
            conn = try StreamConnection.connect(ep.description, timeout: options.timeout,
                                                tls: options.tls == .implicit ? tlsOpts : nil, transcript: nil, cancel: cancel)
        } catch { throw FTPError.from(error, doing: shown) }
        transcript?.record("ftp", .note, "connected \(conn.localText) → \(conn.peerText)\(options.tls == .implicit ? " (implicit TLS)" : "")")
        var opts = options
        opts.tlsOptions = tlsOpts
        let placeholder = FTPReply(code: 0, lines: [])
        let c = FTPClient(host: ep.host, port: ep.port, options: opts, control: conn, welcome: placeholder, transcript: transcript, cancel: cancel)
        do {
            var hello = try c.readReply(doing: shown)
            while hello.kind == 1 { hello = try c.readReply(doing: shown) }
            guard hello.kind == 2 else { throw FTPError.unexpected(hello, doing: "\(shown): the server's greeting") }
            c.welcome = hello
            if options.tls == .explicit {
                let r = try c.command("AUTH TLS", doing: "\(shown): AUTH TLS")
                guard r.code == 234 else { throw FTPError.unexpected(r, doing: "\(shown): AUTH TLS (the server does not offer TLS)") }
                do { c.control = try c.control.startTLS(tlsOpts, host: ep.host, timeout: options.timeout, command: "AUTH TLS", shownPeer: ep.description) }
                catch { throw FTPError.from(error, doing: shown) }
                transcript?.record("ftp", .note, "TLS established on the control connection")
            }
            if options.tls != .none { transcript?.record("ftp", .note, "TLS: \(tlsOpts.verify ? "certificate verified" : "certificate NOT verified (verify: false)")") }
        } catch {
            c.control.abandon()
            throw error
        }
        return c
    }

    /// USER, PASS (when asked for), then for FTPS `PBSZ 0` and `PROT P`, and FEAT.
    public func login(user: String = "anonymous", password: String = "anonymous@") throws {
        let shown = "ftp.login \(user)@\(address)"
        var r = try command("USER \(user)", doing: shown)
        if r.code == 331 || r.code == 332 {
            r = try command("PASS \(password)", shownAs: "PASS \(Transcript.mask(password))", doing: shown)
        }
        guard r.kind == 2 else { throw FTPError.unexpected(r, doing: "\(shown): login refused") }
        self.user = user
        cachedPwd = nil
        if isTLS {
            let p = try command("PBSZ 0", doing: shown)
            guard p.kind == 2 else { throw FTPError.unexpected(p, doing: "\(shown): PBSZ 0") }
            let q = try command("PROT P", doing: shown)
            guard q.kind == 2 else { throw FTPError.unexpected(q, doing: "\(shown): PROT P (TLS on data connections)") }
            protectData = true
        }
        if let f = try? command("FEAT", doing: shown), f.code == 211 {
            features = f.lines.dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    // MARK: the control dialogue

    /// Reads one line of the control connection, CR LF removed; nil at end of stream.
    func readLine(doing what: String) throws -> String? {
        let data: [UInt8]?
        do { data = try control.recvUntil([0x0A], max: FTPReplyParser.maxLine, timeout: options.timeout, what: "reply") }
        catch let e as SocketError where e.kind == .value {
            throw FTPError(.proto, "\(what): a reply line longer than \(FTPReplyParser.maxLine) bytes")
        } catch { throw FTPError.from(error, doing: what) }
        guard var d = data else { return nil }
        if d.last == 0x0A { d.removeLast() }
        if d.last == 0x0D { d.removeLast() }
        return String(decoding: d, as: UTF8.self)
    }

    /// The control connection's server, the lane its steps are drawn to (the data
    /// connections get lanes of their own).
    var controlPeer: String { Endpoint(host: host, port: port).description }

    func readReply(doing what: String) throws -> FTPReply {
        let r = try FTPReplyParser.read(shown: what) { try readLine(doing: what) }
        transcript?.record("ftp", .server, r.description, peer: controlPeer)
        lastReply = r
        return r
    }

    /// Refuses a command or argument that would smuggle a second command (CR, LF or NUL).
    static func checkArgument(_ s: String, what: String) throws {
        if s.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw FTPError(.value, "\(Transcript.escape(Array(what.utf8), limit: 120)): the argument contains CR, LF or NUL, which would end the command early (nothing was sent)")
        }
    }

    func send(_ line: String, shownAs: String? = nil, doing what: String) throws {
        if isClosed { throw FTPError(.closed, "\(what): the session is closed (ftp.quit was called)") }
        try FTPClient.checkArgument(line, what: what)
        transcript?.record("ftp", .client, shownAs ?? line, peer: controlPeer)
        do { try control.send(Array((line + "\r\n").utf8), timeout: options.timeout) }
        catch { throw FTPError.from(error, doing: what) }
    }

    /// Sends a command and returns its final reply (any code; callers check).
    @discardableResult
    public func command(_ line: String, shownAs: String? = nil, doing what: String? = nil) throws -> FTPReply {
        let w = what ?? "ftp \(line.split(separator: " ").first ?? "")"
        try send(line, shownAs: shownAs, doing: w)
        return try readReply(doing: w)
    }

    /// Sends a command and requires a 2xx (or the codes given) reply.
    @discardableResult
    public func expect(_ line: String, _ codes: ClosedRange<Int> = 200...299, doing what: String) throws -> FTPReply {
        let r = try command(line, doing: what)
        guard codes.contains(r.code) else { throw FTPError.unexpected(r, doing: what) }
        return r
    }

    // MARK: commands

    /// The current remote directory from PWD's 257 reply (`/pub`), cached until a command that
    /// may change it (`cwd`, `cdup`, `login`, `quote`). Like every command here, throws
    /// `FTPError` with a kind from the reply (4xx `ftp.temp`, 5xx `ftp.perm`, else `ftp.reply`)
    /// or the socket failure's kind.
    public func pwd() throws -> String {
        if let p = cachedPwd { return p }
        let r = try expect("PWD", 257...257, doing: "ftp.pwd")
        let p = FTPClient.quotedPath(r.lines.first ?? "") ?? r.text
        cachedPwd = p
        return p
    }

    /// The path in a 257 reply: `257 "/a ""quoted"" dir" is current` → `/a "quoted" dir`.
    static func quotedPath(_ line: String) -> String? {
        guard let q = line.firstIndex(of: "\"") else { return nil }
        var out = ""
        var i = line.index(after: q)
        while i < line.endIndex {
            let ch = line[i]
            if ch == "\"" {
                let n = line.index(after: i)
                if n < line.endIndex && line[n] == "\"" { out.append("\""); i = line.index(after: n); continue }
                return out
            }
            out.append(ch)
            i = line.index(after: i)
        }
        return nil
    }

    /// Changes the remote directory with CWD (`..` sends CDUP); a missing directory is usually `ftp.perm` (550).
    public func cwd(_ path: String) throws {
        cachedPwd = nil
        if path == ".." { try expect("CDUP", doing: "ftp.cdup"); return }
        try expect("CWD \(path)", doing: "ftp.cwd \(path)")
    }
    /// Moves to the parent remote directory with CDUP.
    public func cdup() throws { cachedPwd = nil; try expect("CDUP", doing: "ftp.cdup") }

    /// Makes a directory; returns the path the server reports.
    @discardableResult
    public func mkd(_ path: String) throws -> String {
        let r = try expect("MKD \(path)", doing: "ftp.mkd \(path)")
        return FTPClient.quotedPath(r.lines.first ?? "") ?? path
    }
    /// Removes a remote directory with RMD (most servers refuse one that is not empty: `ftp.perm`).
    public func rmd(_ path: String) throws { try expect("RMD \(path)", doing: "ftp.rmd \(path)") }
    /// Deletes a remote file with DELE.
    public func delete(_ path: String) throws { try expect("DELE \(path)", doing: "ftp.delete \(path)") }
    /// Renames `from` to `to` with RNFR (which must get 350) then RNTO. CR, LF or NUL in either name
    /// is an `FTPError` of kind `value`, and nothing is sent.
    public func rename(_ from: String, _ to: String) throws {
        try FTPClient.checkArgument(to, what: "ftp.rename \(from) \(to)")
        try expect("RNFR \(from)", 350...350, doing: "ftp.rename \(from)")
        try expect("RNTO \(to)", doing: "ftp.rename \(from) → \(to)")
    }

    func setType(_ t: String) throws {
        if currentType == t { return }
        try expect("TYPE \(t)", doing: "ftp TYPE \(t)")
        currentType = t
    }

    /// SIZE (in binary type, as its size is the byte count).
    public func size(_ path: String) throws -> Int64 {
        try setType("I")
        let r = try expect("SIZE \(path)", 213...213, doing: "ftp.size \(path)")
        guard let n = Int64(r.text.trimmingCharacters(in: .whitespaces)) else {
            throw FTPError(.reply, "ftp.size \(path): the reply is not a number: \(r.description)", reply: r)
        }
        return n
    }

    /// MDTM: the modification time as "YYYY-MM-DD HH:MM:SS" (UTC).
    public func mdtm(_ path: String) throws -> String {
        let r = try expect("MDTM \(path)", 213...213, doing: "ftp.mdtm \(path)")
        guard let t = FTPEntry.timeText(r.text.trimmingCharacters(in: .whitespaces)) else {
            throw FTPError(.reply, "ftp.mdtm \(path): the reply is not a time: \(r.description)", reply: r)
        }
        return t
    }

    /// Sends a raw command; a 4xx or 5xx reply is an error, anything else is returned.
    public func quote(_ line: String) throws -> FTPReply {
        let what = "ftp.quote \(line.hasPrefix("PASS ") ? "PASS ********" : line)"
        let r = try command(line, shownAs: line.uppercased().hasPrefix("PASS ") ? "PASS ********" : nil, doing: what)
        if r.kind >= 4 { throw FTPError.unexpected(r, doing: what) }
        cachedPwd = nil
        currentType = nil
        return r
    }

    /// QUIT, then closes. Closing twice is harmless; a server that is gone is not an error.
    public func quit() {
        if isClosed { return }
        _ = try? command("QUIT", doing: "ftp.quit")
        isClosed = true
        control.close()
        transcript?.record("ftp", .note, "closed the session with \(address)")
    }

    /// Closes without QUIT (the session value was dropped).
    public func abandon() {
        if isClosed { return }
        isClosed = true
        control.abandon()
    }
}
