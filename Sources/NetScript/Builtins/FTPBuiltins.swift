import Foundation
import NetKit

/// `ftp.open` and the session commands (`ftp.cwd`, `ftp.get`, `ftp.mirror`, …): FTP and
/// FTPS sessions as ftplib and lftp give them. `ftp.open` makes its session the current
/// one, so at the REPL `ftp.cwd "/pub"` needs no session argument; scripts may pass a
/// session as the first argument of every command.
enum FTPBuiltins {
    /// Each interpreter's current session (the last `ftp.open`, until `ftp.quit`).
    nonisolated(unsafe) static var current: [ObjectIdentifier: FTPSessionValue] = [:]

    /// Runs an FTP operation, turning NetKit's errors into diagnostics of the same kind
    /// with the reply as `e.code` / `e.reply` (and `e.partial` for a transfer cut short).
    static func run<T>(_ body: () throws -> T) throws -> T {
        do { return try blockingCall(body) } catch let e as FTPError {
            if e.kind == .interrupted { throw Interpreter.interrupted() }
            var fields: [(String, Value)] = []
            if let r = e.reply, r.code > 0 { fields.append(("code", .int(r.code))); fields.append(("reply", .string(r.text))) }
            else if let r = e.reply { fields.append(("reply", .string(r.description))) }
            if let p = e.partialBytes { fields.append(("partial", .int(Int(p)))) }
            throw Diagnostic(e.kind.rawValue, e.message, cause: e.reply?.description, fields: fields)
        } catch let e as SocketError {
            if e.kind == .interrupted { throw Interpreter.interrupted() }
            throw Diagnostic(e.kind.rawValue, e.message, fields: [("address", .string(e.address))])
        }
    }

    /// The session a command works on and the index of its first own argument: an explicit
    /// session as argument 1, or the current one.
    static func session(_ a: Args, needs: Int, most: Int) throws -> (FTPClient, Int) {
        var client: FTPClient? = nil
        var first = 0
        if case .native(let s as FTPSessionValue) = a[0] { client = s.client; first = 1 }
        else { client = current[ObjectIdentifier(a.interp)]?.client }
        let n = a.count - first
        if n < needs || n > most {
            let want = needs == most ? "\(needs)" : "\(needs) to \(most)"
            throw Diagnostic.type("\(a.callee) takes \(want) argument\(most == 1 ? "" : "s") after the optional session, got \(n)")
        }
        guard let c = client else {
            throw Diagnostic("closed", "\(a.callee): no FTP session is open (ftp.open \"HOST\" first, or pass a session)")
        }
        if c.isClosed { throw Diagnostic("closed", "\(a.callee): the FTP session with \(c.address) is closed (ftp.quit was called)") }
        return (c, first)
    }

    static func text(_ a: Args, _ i: Int, _ what: String) throws -> String {
        guard case .string(let s) = a[i] else {
            throw Diagnostic.type("\(a.callee): \(what) must be a string, not \(a[i].typeName.withArticle)")
        }
        return s
    }

    static func optionalPath(_ a: Args, _ i: Int) throws -> String? {
        i < a.count ? try text(a, i, "the path") : nil
    }

    static func progress(_ a: Args, _ label: String) -> ProgressBar? {
        a.interp.output.flush()
        return ProgressBar.make(label, enabled: a.optionBool("progress"))
    }

    static func register(in r: Interpreter) {
        r.namespace("ftp", summary: "FTP and FTPS sessions (ftplib/lftp level): ftp.open, then ftp.cwd, ftp.get, ftp.put, ftp.mirror, … on the current session or an explicit one. Errors: ftp.perm (5xx), ftp.temp (4xx), ftp.reply, ftp.proto, timeout, refused, closed, tls.")
        registerSession(r)
        registerFiles(r)
        registerTransfers(r)
    }

    // MARK: sessions

    static func registerSession(_ r: Interpreter) {
        r.register("ftp.open", min: 1, max: 1, options: ["user", "password", "tls", "verify", "ca", "sni", "timeout", "passive", "trust_pasv"],
                   usage: "ftp.open \"HOST[:PORT]\" [user: \"anonymous\"] [password: \"anonymous@\"] [tls: \"explicit\"|\"implicit\"|false] [verify: true] [ca: FILE] [sni: NAME] [timeout: 30] [passive: true] [trust_pasv: false]",
                   summary: "Connects and logs in (anonymous by default, as ftplib), returns the session and makes it current. tls: \"explicit\" (AUTH TLS, also tls: true) or \"implicit\" (port 990), certificates verified unless verify: false (the chain, ca: trusting a private CA, and by RFC 9525 the host given or sni: on the control and every data connection — help tls); data connections are TLS too (PROT P). passive: false uses active mode (EPRT/PORT). The address in a PASV reply is ignored for the control connection's peer (FTP-bounce defence) unless trust_pasv: true. Fields: host port user cwd welcome features last_reply tls certificate (the server's, with FTPS) passive closed.",
                   example: "s = ftp.open \"127.0.0.1:2121\" user: \"alice\" password: \"secret\"; print s.welcome") { a in
            let addr = try text(a, 0, "the address")
            var o = FTPOptions()
            switch a.option("tls") {
            case nil, .bool(false)?, .nil?: o.tls = .none
            case .bool(true)?: o.tls = .explicit
            case .string(let s)? where s == "explicit" || s == "implicit": o.tls = FTPTLSMode(rawValue: s)!
            case let v?: throw Diagnostic.value("ftp.open: tls: must be \"explicit\", \"implicit\" or false, not \(Value.repr(v))")
            }
            o.tlsOptions = TLSOptions(verify: a.optionBool("verify") ?? true, caFile: try a.optionString("ca"), serverName: try a.optionString("sni"))
            if a.option("timeout") != nil { o.timeout = try a.timeout(o.timeout, max: 86400) }
            if let p = a.optionBool("passive") { o.passive = p }
            if let t = a.optionBool("trust_pasv") { o.trustPasv = t }
            let user = try a.optionString("user") ?? "anonymous"
            let password = try a.optionString("password") ?? "anonymous@"
            a.interp.output.flush()
            let client = try run { try FTPClient.connect(addr, options: o, transcript: a.interp.transcript, cancel: socketCancel) }
            do { try run { try client.login(user: user, password: password) } }
            catch { client.quit(); throw error }
            let v = FTPSessionValue(client)
            current[ObjectIdentifier(a.interp)] = v
            return .native(v)
        }
        r.register("ftp.login", min: 0, max: 3, usage: "ftp.login [SESSION] [USER=\"anonymous\"] [PASSWORD=\"anonymous@\"]",
                   summary: "Logs in again on a session (USER, PASS; for FTPS also PBSZ 0 and PROT P). The password is masked in traces.",
                   example: "ftp.login \"bob\" \"hunter2\"") { a in
            let (c, i) = try session(a, needs: 0, most: 2)
            let user = i < a.count ? try text(a, i, "the user") : "anonymous"
            let pass = i + 1 < a.count ? try text(a, i + 1, "the password") : "anonymous@"
            try run { try c.login(user: user, password: pass) }
            return .nil
        }
        r.register("ftp.pwd", min: 0, max: 1, usage: "ftp.pwd [SESSION]",
                   summary: "The current remote directory, as the server reports it (PWD).",
                   example: "print (ftp.pwd)") { a in
            let (c, _) = try session(a, needs: 0, most: 0)
            return .string(try run { try c.pwd() })
        }
        r.register("ftp.cwd", min: 1, max: 2, usage: "ftp.cwd [SESSION] PATH",
                   summary: "Changes the remote directory (CWD; \"..\" sends CDUP).",
                   example: "ftp.cwd \"/pub\"") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let p = try text(a, i, "the path")
            try run { try c.cwd(p) }
            return .nil
        }
        r.register("ftp.cdup", min: 0, max: 1, usage: "ftp.cdup [SESSION]",
                   summary: "Goes up one remote directory (CDUP).", example: "ftp.cdup") { a in
            let (c, _) = try session(a, needs: 0, most: 0)
            try run { try c.cdup() }
            return .nil
        }
        r.register("ftp.quote", min: 1, max: 2, usage: "ftp.quote [SESSION] \"COMMAND ARGS\"",
                   summary: "Sends a raw command and returns the reply (fields code, text); a 4xx or 5xx reply is an error (ftp.temp, ftp.perm). Commands that need a data connection are not for quote.",
                   example: "print (ftp.quote \"SYST\").text") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let line = try text(a, i, "the command")
            return FTPValues.reply(try run { try c.quote(line) })
        }
        r.register("ftp.quit", min: 0, max: 1, usage: "ftp.quit [SESSION]",
                   summary: "Says QUIT and closes the session (no error if the server is already gone). Quitting twice is harmless.",
                   example: "ftp.quit") { a in
            var s: FTPSessionValue? = nil
            if case .native(let v as FTPSessionValue) = a[0] { s = v } else { s = current[ObjectIdentifier(a.interp)] }
            guard let s else { return .nil }
            s.client.quit()
            if current[ObjectIdentifier(a.interp)] === s { current[ObjectIdentifier(a.interp)] = nil }
            return .nil
        }
    }

    // MARK: files and directories

    static func registerFiles(_ r: Interpreter) {
        r.register("ftp.dir", min: 0, max: 2, usage: "ftp.dir [SESSION] [PATH]",
                   summary: "The server's LIST lines, as they are (the format is the server's).",
                   example: "for l in ftp.dir { print l }") { a in
            let (c, i) = try session(a, needs: 0, most: 1)
            let p = try optionalPath(a, i)
            return .list(try run { try c.list(p) }.map { .string($0) })
        }
        r.register("ftp.ls", min: 0, max: 2, usage: "ftp.ls [SESSION] [PATH]",
                   summary: "Names in a remote directory (NLST).", example: "print (ftp.ls \"/pub\")") { a in
            let (c, i) = try session(a, needs: 0, most: 1)
            let p = try optionalPath(a, i)
            return .list(try run { try c.nlst(p) }.map { .string($0) })
        }
        r.register("ftp.mlsd", min: 0, max: 2, usage: "ftp.mlsd [SESSION] [PATH]",
                   summary: "A remote directory as records (MLSD, RFC 3659): name type size modify (\"YYYY-MM-DD HH:MM:SS\" UTC) and every fact in facts.",
                   example: "for e in ftp.mlsd { if e.type == \"file\" { print e.name e.size } }") { a in
            let (c, i) = try session(a, needs: 0, most: 1)
            let p = try optionalPath(a, i)
            return .list(try run { try c.mlsd(p) }.map(FTPValues.entry))
        }
        r.register("ftp.size", min: 1, max: 2, usage: "ftp.size [SESSION] PATH",
                   summary: "A remote file's size in bytes (SIZE, in binary type).", example: "print (ftp.size \"remote.bin\")") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let p = try text(a, i, "the path")
            return .int(Int(try run { try c.size(p) }))
        }
        r.register("ftp.mdtm", min: 1, max: 2, usage: "ftp.mdtm [SESSION] PATH",
                   summary: "A remote file's modification time (MDTM) as \"YYYY-MM-DD HH:MM:SS\" (UTC).", example: "print (ftp.mdtm \"remote.bin\")") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let p = try text(a, i, "the path")
            return .string(try run { try c.mdtm(p) })
        }
        r.register("ftp.mkd", min: 1, max: 2, usage: "ftp.mkd [SESSION] PATH",
                   summary: "Makes a remote directory (MKD); returns the path the server reports.", example: "ftp.mkd \"incoming\"") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let p = try text(a, i, "the path")
            return .string(try run { try c.mkd(p) })
        }
        r.register("ftp.rmd", min: 1, max: 2, usage: "ftp.rmd [SESSION] PATH",
                   summary: "Removes an empty remote directory (RMD).", example: "ftp.rmd \"old\"") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let p = try text(a, i, "the path")
            try run { try c.rmd(p) }
            return .nil
        }
        r.register("ftp.delete", min: 1, max: 2, usage: "ftp.delete [SESSION] PATH",
                   summary: "Deletes a remote file (DELE).", example: "ftp.delete \"remote.bin\"") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let p = try text(a, i, "the path")
            try run { try c.delete(p) }
            return .nil
        }
        r.register("ftp.rename", min: 2, max: 3, usage: "ftp.rename [SESSION] FROM TO",
                   summary: "Renames a remote file or directory (RNFR, RNTO).", example: "ftp.rename \"a.txt\" \"b.txt\"") { a in
            let (c, i) = try session(a, needs: 2, most: 2)
            let from = try text(a, i, "the old name"), to = try text(a, i + 1, "the new name")
            try run { try c.rename(from, to) }
            return .nil
        }
    }

    // MARK: transfers

    static func registerTransfers(_ r: Interpreter) {
        let transferOptions = ["resume", "ascii", "progress"]
        r.register("ftp.get", min: 1, max: 3, options: transferOptions + ["max"],
                   usage: "ftp.get [SESSION] REMOTE [LOCAL=basename] [resume: true] [ascii: true] [max: BYTES] [progress: false]",
                   summary: "Downloads a file to disk, streamed in constant memory (RETR, binary; ascii: true uses TYPE A and LF line ends). resume: true continues a partial local file with REST. A progress bar shows on a terminal. Returns a record: remote local bytes offset seconds mib_per_s. A transfer cut short is an error naming the partial file (e.partial bytes). Nothing local is lost: the file is written beside LOCAL and renamed over it when complete, so a refused RETR leaves LOCAL as it was (or absent), and a cut transfer keeps its partial file only where there was none. max: stops a longer file (an endless stream never ends otherwise) with a value error, writing nothing.",
                   example: "ftp.get \"pub/big.iso\" \"big.iso\" resume: true") { a in
            let (c, i) = try session(a, needs: 1, most: 2)
            let remote = try text(a, i, "the remote path")
            let local = i + 1 < a.count ? try text(a, i + 1, "the local path") : (remote as NSString).lastPathComponent
            let bar = progress(a, remote)
            defer { bar?.finish() }
            let mx = try a.optionNumber("max")
            if let m = mx, !(m >= 0 && m < 9e18) { throw Diagnostic.value("ftp.get: max: must be a number of bytes") }
            let t = try run { try c.retrieve(remote, to: local, resume: a.optionBool("resume") == true, ascii: a.optionBool("ascii") == true,
                                             maxBytes: mx.map { Int64($0) }, progress: bar.map { b in { b.update($0, $1) } }) }
            return FTPValues.transfer(t, remote: remote, local: local)
        }
        r.register("ftp.put", min: 1, max: 3, options: transferOptions,
                   usage: "ftp.put [SESSION] LOCAL [REMOTE=basename] [resume: true] [ascii: true] [progress: false]",
                   summary: "Uploads a file, streamed in constant memory (STOR, binary; ascii: true uses TYPE A and CR LF line ends). resume: true sends only what the server's copy lacks (SIZE, REST). Returns a record like ftp.get's.",
                   example: "ftp.put \"local.bin\" \"remote.bin\"") { a in
            let (c, i) = try session(a, needs: 1, most: 2)
            let local = try text(a, i, "the local path")
            let remote = i + 1 < a.count ? try text(a, i + 1, "the remote path") : (local as NSString).lastPathComponent
            let bar = progress(a, local)
            defer { bar?.finish() }
            let t = try run { try c.store(local, to: remote, resume: a.optionBool("resume") == true, ascii: a.optionBool("ascii") == true,
                                          progress: bar.map { b in { b.update($0, $1) } }) }
            return FTPValues.transfer(t, remote: remote, local: local)
        }
        r.register("ftp.append", min: 1, max: 3, options: ["ascii", "progress"],
                   usage: "ftp.append [SESSION] LOCAL [REMOTE=basename] [ascii: true]",
                   summary: "Appends a local file to a remote one (APPE; the server makes it if missing).",
                   example: "ftp.append \"today.log\" \"all.log\"") { a in
            let (c, i) = try session(a, needs: 1, most: 2)
            let local = try text(a, i, "the local path")
            let remote = i + 1 < a.count ? try text(a, i + 1, "the remote path") : (local as NSString).lastPathComponent
            let bar = progress(a, local)
            defer { bar?.finish() }
            let t = try run { try c.store(local, to: remote, append: true, ascii: a.optionBool("ascii") == true,
                                          progress: bar.map { b in { b.update($0, $1) } }) }
            return FTPValues.transfer(t, remote: remote, local: local)
        }
        r.register("ftp.retrlines", min: 1, max: 2, usage: "ftp.retrlines [SESSION] REMOTE",
                   summary: "A remote text file's lines (RETR in TYPE A, line ends removed; at most 256 MiB).",
                   example: "for l in ftp.retrlines \"README\" { print l }") { a in
            let (c, i) = try session(a, needs: 1, most: 1)
            let p = try text(a, i, "the remote path")
            return .list(try run { try c.retrlines(p) }.map { .string($0) })
        }
        r.register("ftp.storlines", min: 2, max: 3, usage: "ftp.storlines [SESSION] REMOTE TEXT|LINES",
                   summary: "Stores text (a string, or a list of lines) as a remote file in TYPE A (CR LF line ends). Returns the byte count sent.",
                   example: "ftp.storlines \"notes.txt\" [\"first\", \"second\"]") { a in
            let (c, i) = try session(a, needs: 2, most: 2)
            let remote = try text(a, i, "the remote path")
            var data: [UInt8]
            switch a[i + 1] {
            case .string(let s): data = Array(s.utf8)
            case .list(let l):
                data = []
                for v in l.items {
                    guard case .string(let s) = v else { throw Diagnostic.type("ftp.storlines: lines must be strings, not \(v.typeName.withArticle)") }
                    data.append(contentsOf: s.utf8); data.append(0x0A)
                }
            default: throw Diagnostic.type("ftp.storlines: the text must be a string or a list of lines, not \(a[i + 1].typeName.withArticle)")
            }
            let t = try run { try c.storeBytes(data, to: remote, ascii: true) }
            return .int(Int(t.bytes))
        }
        r.register("ftp.mirror", min: 2, max: 3, options: ["put", "resume", "progress"],
                   usage: "ftp.mirror [SESSION] REMOTE_DIR LOCAL_DIR [resume: true]  |  ftp.mirror [SESSION] LOCAL_DIR REMOTE_DIR put: true",
                   summary: "Copies a directory tree: remote to local (listing with MLSD, or LIST when the server lacks it), or with put: true local to remote (as lftp's mirror -R). Links and special files are skipped and listed. Returns a record: files directories bytes skipped.",
                   example: "m = ftp.mirror \"/pub/site\" \"site\"; print m.files m.bytes") { a in
            let (c, i) = try session(a, needs: 2, most: 2)
            let from = try text(a, i, "the source directory"), to = try text(a, i + 1, "the target directory")
            let bar = progress(a, from)
            defer { bar?.finish() }
            let p: FTPProgress? = bar.map { b in { b.update($0, $1) } }
            if a.optionBool("put") == true {
                return FTPValues.mirror(try run { try c.mirrorPut(from, to: to, progress: p) })
            }
            return FTPValues.mirror(try run { try c.mirrorGet(from, to: to, resume: a.optionBool("resume") == true, progress: p) })
        }
    }
}
