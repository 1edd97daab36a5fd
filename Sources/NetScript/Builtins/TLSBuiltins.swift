import Foundation
import NetKit
import OrderedCollections

/// `tls.mkcert` (a lab PKI in one command), `starttls` (either side of a connection), and the
/// reading of the TLS options servers share: `tls: {cert:, key:}`, `client_ca:`, `alpn:`,
/// `handshake_timeout:`. NetKit's TLSServerSetup / TLSClientSetup do the work.
enum TLSBuiltins {
    /// The options a TLS server command accepts beside its own.
    static let serverOptions = ["tls", "client_ca", "alpn", "handshake_timeout"]

    static func register(in r: Interpreter) {
        r.namespace("tls", summary: "TLS: tls.inspect \"host:port\" gives a server's certificate (c.certificate on a connection); tls.mkcert makes certificates (a lab CA and certificates it signs); listen, serve tcp, serve echo and serve http take tls: {cert:, key:}; starttls upgrades a connection. help tls.")
        registerMkcert(r)
        registerStartTLS(r)
        registerInspect(r)
    }

    /// `tls.inspect`: a server's certificate in one command, verified or not.
    static func registerInspect(_ r: Interpreter) {
        r.register("tls.inspect", min: 1, max: 2, options: ["timeout", "sni", "ca"],
                   usage: "tls.inspect \"HOST:PORT\" [sni: NAME] [ca: \"ca.pem\"] [timeout: 10]",
                   summary: "Connects with TLS and gives the server's certificate: subject, issuer, sans, not_before, not_after, days_left, serial, sha256, self_signed, chain, and verified (chain and name checked as connect tls: true does) with verify_error when not. An unverifiable certificate is still shown (read with verification off; its chain is then the leaf alone). Like openssl s_client | openssl x509 -text, in one line.",
                   example: "cert = tls.inspect \"127.0.0.1:4443\" sni: \"a.example.test\"; print cert.days_left cert.issuer") { a in
            let addr = try SocketBuiltins.address(a, 0)
            let t = try SocketBuiltins.timeout(a, 10)
            let sni = try a.optionString("sni"), ca = try a.optionString("ca")
            let transcript = a.interp.transcript
            do {
                let conn = try sock { try StreamConnection.connect(addr, timeout: t, tls: TLSOptions(verify: true, caFile: ca, serverName: sni), transcript: transcript, cancel: socketCancel) }
                defer { blockingCall { conn.close() } }
                return try CertificateValue.peer(of: conn, verified: true)
            } catch let d as Diagnostic where d.kind == "tls" {
                let conn = try sock { try StreamConnection.connect(addr, timeout: t, tls: TLSOptions(verify: false, caFile: ca, serverName: sni), transcript: transcript, cancel: socketCancel) }
                defer { blockingCall { conn.close() } }
                return try CertificateValue.peer(of: conn, verified: false, verifyError: d.message)
            }
        }
    }

    // MARK: options

    /// A field of a map or record (`{cert: …}` or what tls.mkcert returns).
    static func field(_ v: Value, _ key: String) throws -> Value? {
        switch v {
        case .map(let m): return m.dict[.string(key)]
        case .native(let n): return try n.field(key)
        default: return nil
        }
    }

    static func strings(_ v: Value, _ what: String) throws -> [String] {
        switch v {
        case .string(let s): return [s]
        case .list(let l):
            return try l.items.map {
                guard case .string(let s) = $0 else { throw Diagnostic.type("\(what): must be a list of strings, not one holding \($0.typeName.withArticle)") }
                return s
            }
        default: throw Diagnostic.type("\(what): must be a string or a list of strings, not \(v.typeName.withArticle)")
        }
    }

    static func fileField(_ v: Value, _ key: String, _ callee: String) throws -> String? {
        guard let f = try field(v, key), f != .nil else { return nil }
        guard case .string(let s) = f else { throw Diagnostic.type("\(callee): tls: \(key): must be a file name (a string), not \(f.typeName.withArticle)") }
        return s
    }

    /// The server TLS set-up from `tls: {cert: "server.pem", key: "server.key"}` (or the record
    /// tls.mkcert returns), with `client_ca:`, `alpn:` and `handshake_timeout:` given either
    /// inside it or as options of their own; nil without `tls:`.
    static func serverSetup(_ a: Args) throws -> TLSServerSetup? {
        guard let t = a.option("tls"), t != .nil, t != .bool(false) else {
            for o in ["client_ca", "alpn", "handshake_timeout"] where a.option(o) != nil {
                throw Diagnostic.value("\(a.callee): \(o): needs tls: {cert: \"server.pem\", key: \"server.key\"}")
            }
            return nil
        }
        if case .bool(true) = t {
            throw Diagnostic.value("\(a.callee): a TLS server needs its certificate: tls: {cert: \"server.pem\", key: \"server.key\"} (tls.mkcert makes them)")
        }
        switch t {
        case .map, .native: return try serverSetup(a, t)
        default:
            throw Diagnostic.type("\(a.callee): tls: must be a map {cert: FILE, key: FILE} (or what tls.mkcert returns), not \(t.typeName.withArticle)")
        }
    }

    private static func serverSetup(_ a: Args, _ t: Value) throws -> TLSServerSetup {
        let opts = try serverOptions(a, t)
        do { return try TLSServerSetup(opts) }
        catch let f as TLSFailure { throw Diagnostic("tls", "\(a.callee): \(f.reason)") }
    }

    /// The server TLS options of `tls: {cert:, key:}` (a map or the record tls.mkcert returns)
    /// with `client_ca:`, `alpn:` and `handshake_timeout:` inside it or as options; nothing read yet.
    static func serverOptions(_ a: Args, _ t: Value) throws -> TLSServerOptions {
        guard let cert = try fileField(t, "cert", a.callee), let key = try fileField(t, "key", a.callee) else {
            throw Diagnostic.value("\(a.callee): tls: needs both cert: and key: (PEM files; tls.mkcert makes them)")
        }
        var clientCA = try a.optionString("client_ca")
        if clientCA == nil, let v = try field(t, "client_ca"), v != .nil {
            guard case .string(let s) = v else { throw Diagnostic.type("\(a.callee): client_ca: must be a file name") }
            clientCA = s
        }
        var alpn: [String] = []
        if let v = try a.option("alpn") ?? field(t, "alpn"), v != .nil { alpn = try strings(v, "\(a.callee): alpn") }
        var hs = 10.0
        if let v = try a.option("handshake_timeout") ?? field(t, "handshake_timeout") {
            switch v {
            case .int(let i) where i > 0: hs = Double(i)
            case .float(let d) where d > 0 && d.isFinite: hs = d
            default: throw Diagnostic.value("\(a.callee): handshake_timeout: must be a positive number of seconds")
            }
        }
        return TLSServerOptions(certFile: cert, keyFile: key, clientCAFile: clientCA, alpn: alpn, handshakeTimeout: hs)
    }

    /// A client's TLS options from `tls: true`, `verify:`, `ca:`, `sni:`, `alpn:`, `cert:`/`key:`;
    /// nil when none is given.
    static func clientOptions(_ a: Args) throws -> TLSOptions? {
        let keys = ["ca", "verify", "sni", "alpn", "cert", "key"]
        guard a.optionBool("tls") == true || keys.contains(where: { a.option($0) != nil }) else { return nil }
        var o = TLSOptions(verify: a.optionBool("verify") ?? true, caFile: try a.optionString("ca"), serverName: try a.optionString("sni"))
        if let v = a.option("alpn"), v != .nil { o.alpn = try strings(v, "\(a.callee): alpn") }
        o.certFile = try a.optionString("cert")
        o.keyFile = try a.optionString("key")
        if (o.certFile == nil) != (o.keyFile == nil) { throw Diagnostic.value("\(a.callee): a client certificate needs both cert: and key:") }
        return o
    }

    // MARK: tls.mkcert

    static func registerMkcert(_ r: Interpreter) {
        r.register("tls.mkcert", min: 1, max: 1, options: ["ca", "days", "dir", "name", "key"],
                   usage: "tls.mkcert NAMES [ca: true | ca: CA] [days: 30] [dir: \".\"] [name: BASENAME] [key: \"p256\"|\"p384\"|\"ed25519\"]",
                   summary: "Makes a certificate and its key as PEM files (DIR/NAME.pem and DIR/NAME.key, the key readable by you only) with swift-certificates: ca: true makes a CA (NAMES[0] its name); ca: CA (what an earlier tls.mkcert … ca: true returned, or {cert:, key:} or [CERT, KEY] files) makes a certificate for NAMES (DNS names and IP addresses, each a subjectAltName) signed by that CA; neither makes one self-signed. EC P-256 keys unless key: says otherwise; valid from a minute ago for days: days (30). Returns a record: cert key names ca not_after issuer fingerprint — pass it straight to tls: of listen/serve, or its .cert to ca: of a client.",
                   example: "ca = tls.mkcert [\"NetScript Lab CA\"] ca: true dir: tmp\nsrv = tls.mkcert [\"localhost\", \"127.0.0.1\"] ca: ca dir: tmp\nl = listen \"127.0.0.1:0\" tls: srv") { a in
            let names = try strings(a[0], "tls.mkcert: NAMES")
            var isCA = false
            var signer: TLSCertificateMaker.Signer? = nil
            if let v = a.option("ca"), v != .nil {
                switch v {
                case .bool(let b): isCA = b
                case .list(let l):
                    guard l.items.count == 2, case .string(let c) = l.items[0], case .string(let k) = l.items[1] else {
                        throw Diagnostic.value("tls.mkcert: ca: as a list must be [CERT_FILE, KEY_FILE]")
                    }
                    signer = .init(certFile: c, keyFile: k)
                case .map, .native:
                    guard let c = try fileField(v, "cert", "tls.mkcert"), let k = try fileField(v, "key", "tls.mkcert") else {
                        throw Diagnostic.value("tls.mkcert: ca: needs the CA's cert: and key: files")
                    }
                    signer = .init(certFile: c, keyFile: k)
                default:
                    throw Diagnostic.type("tls.mkcert: ca: must be true (make a CA) or the CA to sign with ({cert:, key:}, [CERT, KEY], or what tls.mkcert … ca: true returned), not \(v.typeName.withArticle)")
                }
            }
            let days = try a.optionInt("days") ?? 30
            let dir = try a.optionString("dir") ?? "."
            let kindText = try a.optionString("key") ?? "p256"
            guard let kind = TLSCertificateMaker.KeyKind(rawValue: kindText.lowercased().replacingOccurrences(of: "-", with: "")) else {
                throw Diagnostic.value("tls.mkcert: key: must be one of p256, p384, ed25519, not \"\(kindText)\"")
            }
            let made: TLSCertificateMaker.Made
            do {
                made = try blockingCall {
                    try TLSCertificateMaker.make(names: names, isCA: isCA, signer: signer, days: days, key: kind,
                                                 directory: dir, baseName: try a.optionString("name"))
                }
            } catch let f as TLSFailure { throw Diagnostic("tls", "tls.mkcert: \(f.reason)") }
            a.interp.transcript.record("tls", .note, "made \(made.isCA ? "CA " : "")certificate \(made.certFile) (key \(made.keyFile)) for \(made.names.joined(separator: ", ")), signed by \"\(made.issuer)\", valid \(days) day\(days == 1 ? "" : "s")")
            return .native(RecordObject("certificate", [
                "cert": .string(made.certFile), "key": .string(made.keyFile),
                "names": .list(made.names.map { .string($0) }), "ca": .bool(made.isCA),
                "not_after": .string(CertificateValue.iso(made.notValidAfter)), "issuer": .string(made.issuer),
                "fingerprint": .string(made.fingerprint),
            ]))
        }
    }

    // MARK: starttls

    static func registerStartTLS(_ r: Interpreter) {
        r.register("starttls", min: 1, max: 1, options: ["tls", "client_ca", "alpn", "handshake_timeout", "timeout", "ca", "verify", "sni", "cert", "key"],
                   usage: "starttls CONN tls: {cert:, key:} [client_ca: FILE] [alpn: [...]]   (a connection accept gave: as the server)\n       starttls CONN [ca: FILE] [verify: false] [sni: NAME] [alpn: [...]]   (a connection connect gave: as the client)",
                   summary: "Upgrades a plain connection to TLS on the same socket and returns the TLS connection (the plain one is closed for use): the step after a STARTTLS / AUTH TLS exchange. On a connection accept gave, this side is the TLS server (tls: its certificate); bytes the client pipelined in the clear go to TLS, never read as commands. On a client connection, the server's certificate is verified against sni: (default: the address connected to). Errors of kind tls.",
                   example: "send c \"220 Ready to start TLS\\r\\n\"; c = starttls c tls: srv") { a in
            guard case .native(let cv as ConnectionValue) = a[0] else {
                throw Diagnostic.type("starttls: argument 1 must be a connection (from accept or connect), not \(a[0].typeName.withArticle)")
            }
            let conn = cv.conn
            let t = try a.timeout(10)
            if conn.isServerSide {
                guard let setup = try serverSetup(a) else {
                    throw Diagnostic.value("starttls: on a connection accept gave, this side is the server: give tls: {cert: \"server.pem\", key: \"server.key\"}")
                }
                return .native(ConnectionValue(try sock { try conn.startTLSServer(setup, timeout: t) }))
            }
            var o = try clientOptions(a) ?? TLSOptions()
            let host = o.serverName ?? hostPart(conn.peerText)
            return .native(ConnectionValue(try sock { try conn.startTLS(o, host: host, timeout: t, command: "starttls") }))
        }
    }

    /// "127.0.0.1:25" → "127.0.0.1", "[::1]:25" → "::1".
    static func hostPart(_ s: String) -> String {
        (try? Endpoint.split(s).host) ?? s
    }
}
