import Foundation
import XCTest
import NetKit

/// Issue 17: TLS servers in the language and certificates made in one command. Certificates
/// come from `tls.mkcert` (swift-certificates) and are checked by `openssl verify`, Python's
/// `ssl` and NetScript's own client; the servers (`listen tls:`, `serve echo tls:`, `serve tcp
/// tls:`, `starttls` on an accepted connection) are driven by real peers on loopback:
/// `openssl s_client`, Python `ssl`/`smtplib`, and NetScript's `connect … tls:`.
final class TLSServerScriptTests: XCTestCase {
    var exe = ""
    var dir: URL!

    override func setUpWithError() throws {
        exe = try NetScriptBinary.path()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("openssl is not installed") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-tlssrv-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func run(_ code: String, timeout: Double = 40) throws -> RunResult {
        try runProcess(exe, ["-e", code], cwd: dir, timeout: timeout)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// A lab PKI made by NetScript: ca.pem/ca.key, localhost.pem/.key (DNS:localhost, IP:127.0.0.1), client.lab.pem/.key.
    func makePKI() throws {
        let r = try run("""
            ca = tls.mkcert ["NetScript Test CA"] ca: true days: 2 name: "ca"
            srv = tls.mkcert ["localhost", "127.0.0.1"] ca: ca days: 2
            cli = tls.mkcert ["client.lab"] ca: ca days: 2
            print ca.ca srv.ca srv.names srv.issuer
            """)
        XCTAssertEqual(r.stdout, "true false [\"localhost\", \"127.0.0.1\"] NetScript Test CA\n", r.stderr)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// Starts a NetScript server script in the background; returns it once `port` listens.
    func server(_ code: String, port: Int, timeout: Double = 60) -> SocketScriptTests.Background {
        let b = SocketScriptTests.Background(exe, ["-e", code], cwd: dir, timeout: timeout)
        waitForListening(port)
        return b
    }

    func python(_ code: String, timeout: Double = 30) throws -> RunResult {
        try runProcess(try python(), ["-c", code], cwd: dir, timeout: timeout)
    }

    // MARK: tls.mkcert

    func testMkcertMakesACAAndALeafThatOpenSSLAndClientsVerify() throws {
        try makePKI()
        // openssl verify: the chain, and the leaf is for TLS servers and clients.
        let v = try runProcess("/usr/bin/openssl", ["verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "localhost.pem"], cwd: dir)
        XCTAssertEqual(v.stdout, "localhost.pem: OK\n", v.stderr)
        let vc = try runProcess("/usr/bin/openssl", ["verify", "-CAfile", "ca.pem", "-purpose", "sslclient", "client.lab.pem"], cwd: dir)
        XCTAssertEqual(vc.stdout, "client.lab.pem: OK\n", vc.stderr)
        // EC P-256, the names as subjectAltNames, a CA that is one.
        let text = try runProcess("/usr/bin/openssl", ["x509", "-in", "localhost.pem", "-noout", "-text"], cwd: dir).stdout
        XCTAssertTrue(text.contains("prime256v1"), text)
        XCTAssertTrue(text.contains("DNS:localhost, IP Address:127.0.0.1"), text)
        XCTAssertTrue(text.contains("Issuer: O = NetScript lab, CN = NetScript Test CA"), text)
        let caText = try runProcess("/usr/bin/openssl", ["x509", "-in", "ca.pem", "-noout", "-text"], cwd: dir).stdout
        XCTAssertTrue(caText.contains("CA:TRUE"), caText)
        // The key is the owner's alone.
        let attrs = try FileManager.default.attributesOfItem(atPath: path("localhost.key"))
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        // A different CA does not verify it.
        _ = try run("tls.mkcert [\"Other CA\"] ca: true name: \"other\"")
        let bad = try runProcess("/usr/bin/openssl", ["verify", "-CAfile", "other.pem", "localhost.pem"], cwd: dir)
        XCTAssertNotEqual(bad.status, 0)

        // NetScript's own client against openssl s_server with the made certificate.
        let port = try freePort()
        let p = try startQuiet("/usr/bin/openssl", ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", path("localhost.pem"), "-key", path("localhost.key"), "-www", "-quiet"])
        defer { stopProcesses([p]) }
        waitForListening(port)
        let ok = try run("""
            for host in ["localhost", "127.0.0.1"] {
                c = connect "{host}:\(port)" tls: true ca: "ca.pem"
                send c "GET / HTTP/1.0\\r\\n\\r\\n"
                print host (split (recv.line c) " ")[1]
                close c
            }
            try { connect "localhost:\(port)" tls: true ca: "other.pem" } catch e { print e.kind e.message }
            """)
        XCTAssertTrue(ok.stdout.hasPrefix("localhost 200\n127.0.0.1 200\ntls "), ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("not signed by a trusted CA"), ok.stdout)
    }

    func testMkcertErrorsAreNamed() throws {
        let r = try run("""
            try { tls.mkcert [] } catch e { print e.kind e.message }
            try { tls.mkcert ["localhost"] ca: ["nope.pem", "nope.key"] } catch e { print e.kind e.message }
            try { tls.mkcert ["localhost"] days: 0 } catch e { print e.kind e.message }
            try { tls.mkcert ["localhost"] key: "rsa1" } catch e { print e.kind e.message }
            leaf = tls.mkcert ["localhost"] ca: (tls.mkcert ["CA zero"] ca: true)
            try { tls.mkcert ["x.test"] ca: leaf } catch e { print e.kind e.message }
            try { tls.mkcert ["localhost"] dir: "no/such/dir" } catch e { print e.kind e.message }
            """)
        XCTAssertEqual(r.stdout, """
            tls tls.mkcert: tls.mkcert needs at least one name ("localhost", "127.0.0.1", …)
            tls tls.mkcert: cannot read the CA certificate file nope.pem
            tls tls.mkcert: days: must be between 1 and 36500, not 0
            value tls.mkcert: key: must be one of p256, p384, ed25519, not "rsa1"
            tls tls.mkcert: localhost.pem is not a CA certificate (no basicConstraints CA:TRUE); make one with tls.mkcert … ca: true
            tls tls.mkcert: the directory no/such/dir does not exist

            """, r.stderr)
    }

    // MARK: listen tls:, mutual TLS, ALPN

    func testListenWithMutualTLSAndALPNAgainstPythonOpenSSLAndNetScript() throws {
        try makePKI()
        let port = try freePort()
        let srv = server("""
            l = listen "127.0.0.1:\(port)" tls: {cert: "localhost.pem", key: "localhost.key"} client_ca: "ca.pem" alpn: ["h2", "http/1.1"]
            for i in range 2 {
                c = accept l timeout: 30
                print "client" c.certificate.common_name c.certificate.issuer "alpn" c.alpn c.proto
                send c "hi {c.certificate.common_name} over {c.alpn}\\n"
                close c
            }
            print "refused handshakes:" l.handshake_failures
            """, port: port)
        // No client certificate: refused by the server, which goes on listening.
        let refused = try runProcess("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", path("ca.pem"),
                                                          "-alpn", "h2", "-quiet", "-verify_return_error"], stdin: "", cwd: dir, timeout: 20)
        XCTAssertFalse(refused.stdout.contains("hi "), refused.stdout)
        // Python's ssl with a client certificate, offering h2: accepted.
        let py = try python("""
            import socket, ssl
            ctx = ssl.create_default_context(cafile="ca.pem")
            ctx.load_cert_chain("client.lab.pem", "client.lab.key")
            ctx.set_alpn_protocols(["h2"])
            with socket.create_connection(("127.0.0.1", \(port))) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    print(s.selected_alpn_protocol(), s.makefile().readline().strip())
            """)
        XCTAssertEqual(py.stdout, "h2 hi client.lab over h2\n", py.stderr)
        // NetScript's client with cert:/key:, offering http/1.1 only.
        let ns = try run("""
            c = connect "127.0.0.1:\(port)" tls: true ca: "ca.pem" cert: "client.lab.pem" key: "client.lab.key" alpn: ["http/1.1"]
            print c.alpn (recv.line c) c.certificate.dns_names c.certificate.ip_addresses
            """)
        XCTAssertEqual(ns.stdout, "http/1.1 hi client.lab over http/1.1 [\"localhost\"] [\"127.0.0.1\"]\n", ns.stderr)
        let out = srv.wait(30)
        XCTAssertEqual(out?.stdout, """
            client client.lab CN=NetScript Test CA,O=NetScript lab alpn h2 tls
            client client.lab CN=NetScript Test CA,O=NetScript lab alpn http/1.1 tls
            refused handshakes: 1

            """, out?.stderr ?? "")
    }

    func testHandshakeFailuresAndStalledClientsLeaveTheListenerServing() throws {
        try makePKI()
        let port = try freePort()
        let srv = server("""
            trace on
            l = listen "127.0.0.1:\(port)" tls: (tls.mkcert ["localhost"] days: 1 name: "self") handshake_timeout: 1
            c = accept l timeout: 30
            print "accepted after" l.handshake_failures "failures:" (recv.line c)
            close c
            """, port: port)
        // A client that speaks plain HTTP, one that stalls, one whose CA does not know the server.
        let plain = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        try plain.send(Array("GET / HTTP/1.0\r\n\r\n".utf8))
        let stalled = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        let t0 = Date()
        XCTAssertNil(try? stalled.recv(max: 100, timeout: 5) ?? nil, "a stalled client is dropped")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 4.5)
        let wrongCA = try run("try { connect \"localhost:\(port)\" tls: true ca: \"ca.pem\" } catch e { print e.kind e.message }")
        XCTAssertTrue(wrongCA.stdout.hasPrefix("tls connect localhost:\(port) "), wrongCA.stdout)
        XCTAssertTrue(wrongCA.stdout.contains("TLS handshake failed: the certificate of localhost:\(port) is self-signed (\"localhost\") and not among ca: ca.pem"), wrongCA.stdout)
        plain.close(); stalled.close()
        // The listener still serves.
        let good = try run("c = connect \"localhost:\(port)\" tls: true ca: \"self.pem\"; send c \"still here\\n\"; close c")
        XCTAssertEqual(good.status, 0, good.stderr)
        let out = srv.wait(30)
        XCTAssertEqual(out?.stdout, "accepted after 3 failures: still here\n", out?.stderr ?? "")
        let trace = out?.stderr ?? ""
        XCTAssertTrue(trace.contains("failed: the client did not speak TLS"), trace)
        XCTAssertTrue(trace.contains("failed: no TLS handshake within 1 s (the client stalled)"), trace)
        XCTAssertTrue(trace.contains("failed: the client refused the handshake (TLS alert: bad certificate)")
                      || trace.contains("failed: the client refused the handshake (TLS alert: unknown ca)"), trace)
    }

    func testServerTLSOptionErrorsAreNamed() throws {
        try makePKI()
        let r = try run("""
            try { listen "127.0.0.1:0" tls: true } catch e { print e.kind e.message }
            try { listen "127.0.0.1:0" tls: {cert: "localhost.pem"} } catch e { print e.kind e.message }
            try { listen "127.0.0.1:0" tls: {cert: "nope.pem", key: "localhost.key"} } catch e { print e.kind e.message }
            try { listen "127.0.0.1:0" tls: {cert: "localhost.pem", key: "client.lab.key"} } catch e { print e.kind e.message }
            try { listen "127.0.0.1:0" client_ca: "ca.pem" } catch e { print e.kind e.message }
            try { serve echo "127.0.0.1:0" udp: true tls: {cert: "localhost.pem", key: "localhost.key"} } catch e { print e.kind e.message }
            """)
        XCTAssertEqual(r.stdout, """
            value listen: a TLS server needs its certificate: tls: {cert: "server.pem", key: "server.key"} (tls.mkcert makes them)
            value listen: tls: needs both cert: and key: (PEM files; tls.mkcert makes them)
            tls listen: cannot read the certificate file nope.pem
            tls listen: the key client.lab.key does not belong to the certificate localhost.pem
            value listen: client_ca: needs tls: {cert: "server.pem", key: "server.key"}
            value serve echo: tls: is for streams, not udp: true (DTLS is not supported)

            """, r.stderr)
    }

    // MARK: serve echo / serve tcp with TLS

    func testTLSEchoServerWithOpenSSLPythonAndNetScript() throws {
        try makePKI()
        let port = try freePort()
        let srv = server("""
            s = serve echo "127.0.0.1:\(port)" tls: {cert: "localhost.pem", key: "localhost.key"} count: 3
            print s.connections s.bytes s.tls_failures
            """, port: port)
        // s_client ends at the end of its input (-no_ign_eof): the input ends a second after the line.
        let os = try runProcess("/bin/sh", ["-c", "(printf 'hello from openssl\\n'; sleep 1) | openssl s_client -connect 127.0.0.1:\(port) -servername localhost -CAfile ca.pem -verify_return_error -quiet -no_ign_eof"],
                                cwd: dir, timeout: 20)
        XCTAssertEqual(os.stdout, "hello from openssl\n", os.stderr)
        // A client that does not speak TLS fails its handshake; the server goes on.
        let plain = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        try plain.send(Array("hello in the clear\n".utf8))
        _ = try? plain.recvAll(max: 1 << 16, timeout: 5)
        plain.close()
        let py = try python("""
            import socket, ssl
            ctx = ssl.create_default_context(cafile="ca.pem")
            with socket.create_connection(("127.0.0.1", \(port))) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    s.sendall(b"x" * 100000)
                    got = b""
                    while len(got) < 100000:
                        got += s.recv(65536)
                    print(len(got), got == b"x" * 100000)
            """)
        XCTAssertEqual(py.stdout, "100000 True\n", py.stderr)
        let ns = try run("c = connect \"localhost:\(port)\" tls: true ca: \"ca.pem\"; send c \"hi\\n\"; print (recv.line c); close c")
        XCTAssertEqual(ns.stdout, "hi\n", ns.stderr)
        let out = srv.wait(30)
        XCTAssertEqual(out?.stdout, "3 100022 1\n", out?.stderr ?? "")
        XCTAssertTrue(out?.stderr.contains("serve echo: TLS handshake with 127.0.0.1:") == true, out?.stderr ?? "")
        XCTAssertTrue(out?.stderr.contains("failed: the client did not speak TLS") == true, out?.stderr ?? "")
    }

    func testServeTCPWithTLSRunsTheHandlerForHandshakedClientsOnly() throws {
        try makePKI()
        let port = try freePort()
        let srv = server("""
            n = serve tcp "127.0.0.1:\(port)" tls: {cert: "localhost.pem", key: "localhost.key"} count: 2 fn(c) {
                line = recv.line c
                send c "{upper line} ({c.proto})\\n"
            }
            print "served" n
            """, port: port)
        let bad = try runProcess("/usr/bin/curl", ["-sS", "--max-time", "5", "http://127.0.0.1:\(port)/"], cwd: dir, timeout: 20)
        XCTAssertNotEqual(bad.status, 0)
        for who in ["one", "two"] {
            let r = try run("c = connect \"127.0.0.1:\(port)\" tls: true ca: \"ca.pem\"; send c \"\(who)\\n\"; print (recv.line c)")
            XCTAssertEqual(r.stdout, "\(who.uppercased()) (tls)\n", r.stderr)
        }
        let out = srv.wait(30)
        XCTAssertEqual(out?.stdout, "served 2\n", out?.stderr ?? "")
        XCTAssertTrue(out?.stderr.contains("serve tcp: TLS handshake with 127.0.0.1:") == true, out?.stderr ?? "")
    }

    // MARK: starttls on the server side

    func testStartTLSServerStepByStepWithPythonSmtplib() throws {
        try makePKI()
        let port = try freePort()
        let srv = server("""
            l = listen "127.0.0.1:\(port)"
            for i in range 2 {
            c = accept l timeout: 30
            send c "220 lab ESMTP\\r\\n"
            while true {
                line = recv.line c timeout: 10
                if line == nil { break }
                verb = upper (split line " ")[0]
                if verb == "EHLO" {
                    if c.proto == "tls" { send c "250 lab\\r\\n" } else { send c "250-lab\\r\\n250 STARTTLS\\r\\n" }
                } else if verb == "STARTTLS" {
                    send c "220 Ready to start TLS\\r\\n"
                    c = starttls c tls: {cert: "localhost.pem", key: "localhost.key"}
                    print "upgraded:" c.proto
                } else if verb == "NOOP" {
                    send c "250 OK ({c.proto})\\r\\n"
                } else if verb == "QUIT" {
                    send c "221 bye\\r\\n"; break
                }
            }
            close c
            }
            """, port: port)
        let py = try python("""
            import smtplib, ssl
            ctx = ssl.create_default_context(cafile="ca.pem")
            s = smtplib.SMTP("127.0.0.1", \(port), timeout=10)
            s.ehlo("me")
            print(s.has_extn("starttls"))
            print(s.starttls(context=ctx)[0])
            s.ehlo("me")
            print(s.noop())
            s.quit()
            """)
        XCTAssertEqual(py.stdout, "True\n220\n(250, b'OK (tls)')\n", py.stderr)
        // NetScript's own client side of starttls against the same server.
        let ns = try run("""
            c = connect "127.0.0.1:\(port)"
            recv.line c
            send c "EHLO me\\r\\n"; recv.line c; recv.line c
            send c "STARTTLS\\r\\n"; print (recv.line c)
            c = starttls c ca: "ca.pem" sni: "localhost"
            send c "NOOP\\r\\n"; print (recv.line c) c.proto
            send c "QUIT\\r\\n"; print (recv.line c)
            """)
        XCTAssertEqual(ns.stdout, "220 Ready to start TLS\n250 OK (tls) tls\n221 bye\n", ns.stderr)
        let out = srv.wait(30)
        XCTAssertEqual(out?.stdout, "upgraded: tls\nupgraded: tls\n", out?.stderr ?? "")
    }

    func testStartTLSServerRefusesPlainCommandsPipelinedAfterStartTLS() throws {
        try makePKI()
        let port = try freePort()
        let srv = server("""
            l = listen "127.0.0.1:\(port)"
            c = accept l timeout: 30
            recv.line c
            send c "220 go ahead\\r\\n"
            sleep 0.3
            try { c = starttls c tls: {cert: "localhost.pem", key: "localhost.key"} } catch e { print e.kind e.message }
            """, port: port)
        // The CVE-2011-0411 pattern: a command in the clear right behind STARTTLS.
        let c = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        try c.send(Array("STARTTLS\r\nRCPT TO:<evil@example.test>\r\n".utf8))
        _ = try? c.recvAll(max: 1 << 16, timeout: 10)
        c.close()
        let out = srv.wait(30)
        XCTAssertTrue(out?.stdout.hasPrefix("tls TLS upgrade (server) with 127.0.0.1:") == true, out?.stdout ?? "")
        XCTAssertTrue(out?.stdout.contains("the client did not speak TLS") == true, out?.stdout ?? "")
    }

    // MARK: the tour's TLS echo twin

    func testListenAndConnectInOneScriptWithALPN() throws {
        let r = try run("""
            ca = tls.mkcert ["Tour CA"] ca: true days: 1
            srv = tls.mkcert ["localhost", "127.0.0.1"] ca: ca days: 1
            l = listen "127.0.0.1:0" tls: srv alpn: ["echo/1", "http/1.1"]
            c = connect "localhost:{l.port}" tls: true ca: ca.cert alpn: ["echo/1"]
            s = accept l timeout: 5
            send c "hello over TLS\\n"
            send s "{upper (recv.line s)}\\n"
            print (recv.line c) c.alpn s.alpn c.proto s.proto (s.certificate == nil) c.certificate.common_name
            # A client offering none of the server's protocols gets none (BoringSSL does not refuse it).
            d = connect "localhost:{l.port}" tls: true ca: ca.cert alpn: ["smtp"]
            print d.alpn l.handshake_failures
            """)
        XCTAssertEqual(r.stdout, "HELLO OVER TLS echo/1 echo/1 tls tls true localhost\nnil 0\n", r.stderr)
    }

    /// The certificate stays readable after the peer has gone: a TLS server that closes without
    /// close_notify (Python's `close()`) takes the channel down, and with it the TLS handler that
    /// `c.certificate` used to read — it failed with "notFound". The leaf is kept at the handshake.
    func testCertificateIsStillThereAfterThePeerClosed() throws {
        try makePKI()
        let port = try freePort()
        let py = SocketScriptTests.Background(try python(), ["-c", """
            import socket, ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain("localhost.pem", "localhost.key")
            l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            l.bind(("127.0.0.1", \(port))); l.listen(1); l.settimeout(20)
            c, _ = l.accept()
            s = ctx.wrap_socket(c, server_side=True)
            s.sendall(b"bye\\n")
            s.close()
            """], cwd: dir, timeout: 30)
        waitForListening(port)
        let r = try run("""
            c = connect "127.0.0.1:\(port)" tls: true ca: "ca.pem"
            print (recv.line c)
            sleep 0.3
            print c.certificate.common_name c.certificate.issuer (len c.certificate.chain)
            """)
        XCTAssertEqual(r.stdout, "bye\nlocalhost CN=NetScript Test CA,O=NetScript lab 1\n", r.stderr)
        _ = py.wait(10)
    }
}
