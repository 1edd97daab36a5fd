import Foundation
import NetKit
import OrderedCollections

/// `connect`, `send`, `recv`, `udp`, `unix`, `listen`, `accept`, `serve`, and the host
/// look-ups: the classic socket API, blocking, every wait bounded by `timeout:` and Ctrl-C.
enum SocketBuiltins {
    /// Set by `stop` inside a `serve tcp` handler; the server finishes that client and returns.
    nonisolated(unsafe) static var stopRequested = false

    static func register(in r: Interpreter) {
        registerClient(r)
        registerDatagram(r)
        registerServers(r)
        registerHosts(r)
    }

    // MARK: helpers

    /// Data to send: a string (as UTF-8) or bytes.
    static func payload(_ a: Args, _ i: Int) throws -> [UInt8] {
        switch a[i] {
        case .string(let s): return Array(s.utf8)
        case .bytes(let b): return b
        default: throw Diagnostic.type("\(a.callee): the data must be a string or bytes, not \(a[i].typeName.withArticle)")
        }
    }

    /// Received data: text when it is UTF-8 (and `bytes: true` is not given), bytes otherwise.
    static func received(_ data: [UInt8], _ a: Args) -> Value {
        if a.optionBool("bytes") == true { return .bytes(data) }
        if let s = String(validating: data, as: UTF8.self) { return .string(s) }
        return .bytes(data)
    }

    static func timeout(_ a: Args, _ fallback: Double) throws -> Double { try a.timeout(fallback) }

    static func maxOption(_ a: Args, _ fallback: Int) throws -> Int {
        guard let m = try a.optionNumber("max") else { return fallback }
        guard m >= 1, m < 1e15 else { throw Diagnostic.value("\(a.callee): max: must be at least 1") }
        return Int(m)
    }

    /// An address argument: "HOST:PORT", or a host (text or ip) followed by a port argument.
    static func address(_ a: Args, _ i: Int) throws -> String {
        let host: String
        switch a[i] {
        case .string(let s): host = s
        case .native(let ip as IPValue): host = ip.ip.description
        default: throw Diagnostic.type("\(a.callee): the address must be a string like \"127.0.0.1:7007\", not \(a[i].typeName.withArticle)")
        }
        if a.count > i + 1, case .int(let port) = a[i + 1] {
            return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        return host
    }

    static func connection(_ a: Args, _ i: Int = 0) throws -> StreamConnection {
        guard case .native(let c as ConnectionValue) = a[i] else {
            throw Diagnostic.type("\(a.callee): argument \(i + 1) must be a connection (from connect, unix or accept), not \(a[i].typeName.withArticle)")
        }
        return c.conn
    }

    static func datagram(_ a: Args, _ i: Int = 0) throws -> DatagramSocket {
        guard case .native(let d as DatagramValue) = a[i] else {
            throw Diagnostic.type("\(a.callee): argument \(i + 1) must be a udp socket (from udp), not \(a[i].typeName.withArticle)")
        }
        return d.socket
    }

    // MARK: clients

    static func registerClient(_ r: Interpreter) {
        r.register("connect", min: 1, max: 2, options: ["timeout", "tls", "verify", "ca", "sni", "alpn", "cert", "key"],
                   usage: "connect \"HOST:PORT\" [timeout: 10] [tls: true] [verify: false] [ca: \"ca.pem\"] [sni: NAME] [alpn: [\"h2\", \"http/1.1\"]] [cert: FILE key: FILE]",
                   summary: "Opens a TCP connection (IPv4, [IPv6]:PORT, or a name, each address tried in turn); tls: true wraps it in TLS with certificate verification on: the chain against the system's CAs or ca:, the identity by RFC 9525 against the host given or sni: (a name only by the certificate's DNS names, an address only by its IP addresses; help tls); alpn: offers protocols (the chosen one is c.alpn), cert: and key: present a client certificate (mutual TLS). Fields: local peer closed proto eof alpn certificate. Errors: refused timeout reset unreachable resolve tls io.",
                   example: "c = connect \"127.0.0.1:7007\"; send c \"hello\\n\"; print (recv.line c); close c") { a in
            let addr = try address(a, 0)
            let tls = try TLSBuiltins.clientOptions(a)
            let t = try timeout(a, 10)
            a.interp.output.flush()
            return .native(ConnectionValue(try sock {
                try StreamConnection.connect(addr, timeout: t, tls: tls, transcript: a.interp.transcript, cancel: socketCancel)
            }))
        }
        r.register("unix", min: 1, max: 1, options: ["timeout", "dgram", "bind"],
                   usage: "unix PATH [dgram: true [bind: MYPATH]] [timeout: 10]",
                   summary: "Connects to a Unix domain stream socket by path (a connection, like connect's); with dgram: true, opens a Unix datagram socket connected to PATH (use send/recv, or sendto/recvfrom).",
                   example: "c = unix \"/tmp/echo.sock\"; send c \"hi\\n\"; print (recv.line c)") { a in
            let path = try a.string(0)
            let t = try timeout(a, 10)
            if a.optionBool("dgram") == true {
                return .native(DatagramValue(try sock {
                    try DatagramSocket.open(bind: try a.optionString("bind"), connect: path, unix: true,
                                            transcript: a.interp.transcript, cancel: socketCancel, timeout: t)
                }))
            }
            return .native(ConnectionValue(try sock {
                try StreamConnection.connectUnix(path, timeout: t, transcript: a.interp.transcript, cancel: socketCancel)
            }))
        }
        r.register("send", min: 2, max: 2, options: ["timeout"], usage: "send CONN DATA [timeout: 30]",
                   summary: "Sends all of DATA (a string, as UTF-8, or bytes) on a connection or a connected udp socket; returns the byte count.",
                   example: "send c \"GET / HTTP/1.0\\r\\n\\r\\n\"") { a in
            let data = try payload(a, 1)
            let t = try timeout(a, 30)
            if case .native(let d as DatagramValue) = a[0] {
                try sock { try d.socket.send(data, timeout: t) }
                return .int(data.count)
            }
            let c = try connection(a)
            try sock { try c.send(data, timeout: t) }
            return .int(data.count)
        }

        r.namespace("recv", summary: "Receiving from a connection: recv (up to N bytes), recv.line, recv.until, recv.all.")
        r.register("recv", min: 1, max: 2, options: ["timeout", "bytes"], usage: "recv CONN [N=65536] [timeout: 30] [bytes: true]",
                   summary: "Up to N bytes from a connection, waiting for at least one; nil at end of stream. On a udp socket, the next datagram. Text when the data is UTF-8, else bytes (bytes: true always gives bytes).",
                   example: "data = recv c 4096 timeout: 5") { a in
            let t = try timeout(a, 30)
            if case .native(let d as DatagramValue) = a[0] {
                let dg = try sock { try d.socket.receive(timeout: t) }
                return received(dg.data, a)
            }
            let c = try connection(a)
            let n = a.count > 1 ? try a.int(1) : 65536
            guard n >= 1 else { throw Diagnostic.value("recv: N must be at least 1, not \(n)") }
            guard let data = try sock({ try c.recv(max: n, timeout: t) }) else { return .nil }
            return received(data, a)
        }
        r.register("recv.line", min: 1, max: 1, options: ["timeout", "max", "keep", "bytes"],
                   usage: "recv.line CONN [timeout: 30] [max: 1048576] [keep: true] [bytes: true]",
                   summary: "One line, without its \\n or \\r\\n (keep: true keeps it); the rest at end of stream, nil when nothing is left. A line longer than max: bytes is an error of kind value.",
                   example: "print (recv.line c)") { a in
            let c = try connection(a)
            let t = try timeout(a, 30), mx = try maxOption(a, 1 << 20)
            guard var data = try sock({ try c.recvUntil([0x0A], max: mx + 1, timeout: t, what: "recv.line", shownMax: mx) }) else { return .nil }
            if a.optionBool("keep") != true {
                if data.last == 0x0A { data.removeLast(); if data.last == 0x0D { data.removeLast() } }
            }
            if data.count > mx { throw Diagnostic("value", "recv.line from \(c.peerText): line longer than max: \(mx) bytes", fields: [("address", .string(c.peerText))]) }
            return received(data, a)
        }
        r.register("recv.until", min: 2, max: 2, options: ["timeout", "max", "bytes"],
                   usage: "recv.until CONN DELIM [timeout: 30] [max: 1048576] [bytes: true]",
                   summary: "Data up to and including DELIM (a string or bytes); the rest at end of stream, nil when nothing is left. More than max: bytes without DELIM is an error of kind value.",
                   example: "head = recv.until c \"\\r\\n\\r\\n\"") { a in
            let c = try connection(a)
            let delim = try payload(a, 1)
            guard !delim.isEmpty else { throw Diagnostic.value("recv.until: the delimiter is empty") }
            let t = try timeout(a, 30), mx = try maxOption(a, 1 << 20)
            guard let data = try sock({ try c.recvUntil(delim, max: mx, timeout: t) }) else { return .nil }
            return received(data, a)
        }
        r.register("recv.all", min: 1, max: 1, options: ["timeout", "max", "bytes"],
                   usage: "recv.all CONN [timeout: 30] [max: 67108864] [bytes: true]",
                   summary: "Everything until the peer closes its side (at most max: bytes, more is an error of kind value).",
                   example: "send c \"GET / HTTP/1.0\\r\\n\\r\\n\"; page = recv.all c") { a in
            let c = try connection(a)
            let t = try timeout(a, 30), mx = try maxOption(a, 64 << 20)
            return received(try sock { try c.recvAll(max: mx, timeout: t) }, a)
        }
        r.register("shutdown", min: 1, max: 1, usage: "shutdown CONN",
                   summary: "Closes the sending side of a connection (the peer reads end of stream); receiving goes on.",
                   example: "send c data; shutdown c; reply = recv.all c") { a in
            let c = try connection(a)
            try sock { try c.shutdownWrite() }
            return .nil
        }
        r.register("close", min: 1, max: 1, usage: "close SOCKET",
                   summary: "Closes a connection (after sending what is pending), a udp socket or a listener. Closing twice is harmless.",
                   example: "close c") { a in
            switch a[0] {
            case .native(let c as ConnectionValue): c.conn.close()
            case .native(let d as DatagramValue): d.socket.close()
            case .native(let l as ListenerValue): l.listener.close()
            default: throw Diagnostic.type("close: needs a connection, udp socket or listener, not \(a[0].typeName.withArticle)")
            }
            return .nil
        }
    }

    // MARK: datagrams

    static func registerDatagram(_ r: Interpreter) {
        r.register("udp", min: 0, max: 2, options: ["bind", "timeout"], usage: "udp [\"HOST:PORT\"] [bind: \"HOST:PORT\"]",
                   summary: "Opens a UDP socket, bound to bind: (default: any address, a free port); given an address, it is connected to it (send/recv then talk only to that peer). Datagrams keep their boundaries; at most 65,507 bytes each. Fields: local peer closed.",
                   example: "u = udp bind: \"127.0.0.1:0\"; sendto u \"ping\" \"127.0.0.1:7007\"; d = recvfrom u; print d.data d.from") { a in
            let peer: String? = a.count > 0 ? try address(a, 0) : nil
            let bind = try a.optionString("bind")
            let t = try timeout(a, 10)
            return .native(DatagramValue(try sock {
                try DatagramSocket.open(bind: bind, connect: peer, transcript: a.interp.transcript, cancel: socketCancel, timeout: t)
            }))
        }
        r.register("sendto", min: 3, max: 3, options: ["timeout"], usage: "sendto SOCKET DATA \"HOST:PORT\"",
                   summary: "Sends one datagram (a string or bytes, at most 65,507 bytes) to an address; on a Unix datagram socket the address is a path.",
                   example: "sendto u \"ping\" \"127.0.0.1:7007\"") { a in
            let s = try datagram(a)
            let data = try payload(a, 1)
            let to = try a.string(2)
            try sock { try s.send(data, to: to, timeout: try timeout(a, 10)) }
            return .int(data.count)
        }
        r.register("recvfrom", min: 1, max: 1, options: ["timeout", "bytes"], usage: "recvfrom SOCKET [timeout: 30] [bytes: true]",
                   summary: "The next datagram as a record with fields data and from (the sender's address). In the trace a datagram from a peer that spoke first is C: (we answer it as a server), one from a peer we wrote to first is S:.",
                   example: "d = recvfrom u timeout: 2; print d.from d.data") { a in
            let s = try datagram(a)
            let dg = try sock { try s.receive(timeout: try timeout(a, 30)) }
            return .native(RecordObject("datagram", ["data": received(dg.data, a), "from": .string(dg.from)]))
        }
    }

    // MARK: servers

    static func registerServers(_ r: Interpreter) {
        r.register("listen", min: 1, max: 2, options: ["backlog"] + TLSBuiltins.serverOptions,
                   usage: "listen \"HOST:PORT\" [backlog: 128] [tls: {cert: \"server.pem\", key: \"server.key\"} [client_ca: \"ca.pem\"] [alpn: [\"h2\", \"http/1.1\"]] [handshake_timeout: 10]]",
                   summary: "A listening socket (bind + listen) on HOST:PORT (port 0 picks a free one; .port tells which) or on a Unix socket path (\"/tmp/x.sock\" or \"unix:PATH\"). Take clients with accept. With tls: (PEM files, or what tls.mkcert returned) every client speaks TLS: accept gives it once its handshake is done (c.alpn, c.certificate); client_ca: asks each client for a certificate signed by those CAs (mutual TLS); alpn: the protocols accepted. A failed handshake, or one stalled past handshake_timeout:, drops that client only (l.handshake_failures counts them; trace on shows why).",
                   example: "l = listen \"127.0.0.1:0\" backlog: 5; print l.port; c = accept l") { a in
            let addr = try address(a, 0)
            let backlog = try a.optionInt("backlog") ?? 128
            guard backlog >= 1 else { throw Diagnostic.value("listen: backlog: must be at least 1") }
            let tls = try TLSBuiltins.serverSetup(a)
            return .native(ListenerValue(try sock {
                try Listener.listen(addr, backlog: backlog, tls: tls, transcript: a.interp.transcript, cancel: socketCancel)
            }))
        }
        r.register("accept", min: 1, max: 1, options: ["timeout"], usage: "accept LISTENER [timeout: SECONDS]",
                   summary: "Waits for the next client and returns its connection (a connection whose sends show as S: in the trace). Waits without limit unless timeout: is given (as Python's accept does); Ctrl-C always interrupts.",
                   example: "c = accept l timeout: 10; send c \"hello\\r\\n\"") { a in
            guard case .native(let l as ListenerValue) = a[0] else {
                throw Diagnostic.type("accept: needs a listener (from listen), not \(a[0].typeName.withArticle)")
            }
            let t = try timeout(a, Args.noTimeLimit)
            a.interp.output.flush()
            return .native(ConnectionValue(try sock { try l.listener.accept(timeout: t, cancel: socketCancel) }))
        }

        r.namespace("serve", summary: "Servers, stopped by Ctrl-C, `stop`, count: or duration: — serve tcp (a handler in the language per client, clients at once), serve echo (built in, many clients at once), serve http (static files and routes in the language).")
        r.register("serve.tcp", min: 2, max: 2, options: ["count", "duration", "backlog", "concurrency"] + TLSBuiltins.serverOptions,
                   usage: "serve tcp \"HOST:PORT\" HANDLER [concurrency: 100] [count: N] [duration: SECONDS] [backlog: 128] [tls: {cert:, key:} [client_ca: FILE] [alpn: [...]]]",
                   summary: "Accepts clients and runs HANDLER(conn) for each, up to concurrency: clients at once (each on its own thread; one runs language code at a time and gives way while it waits on the network or sleeps, like Python's ThreadingTCPServer); concurrency: 1 serves one client after another on the interpreter. The connection is closed when the handler returns; a handler error is logged and the server goes on. Stops on Ctrl-C, `stop` in a handler, after count: clients or duration: seconds, then waits for the handlers still running. Returns the number of clients served. tls: (as listen's) serves TLS: a handler sees only clients whose handshake succeeded; a failed one is logged to stderr and the server goes on.",
                   example: "serve tcp \"127.0.0.1:7007\" fn(c) { send c \"{upper (recv.line c)}\\n\" } count: 1") { a in
            let addr = try address(a, 0)
            let handler = a[1]
            guard case .function = handler else { throw Diagnostic.type("serve tcp: the handler must be a function fn(conn) { … }, not \(handler.typeName.withArticle)") }
            let count = try a.optionInt("count")
            let duration = try a.optionNumber("duration")
            let backlog = try a.optionInt("backlog") ?? 128
            let concurrency = try a.optionInt("concurrency") ?? 100
            guard concurrency >= 1, concurrency <= 1000 else { throw Diagnostic.value("serve tcp: concurrency: must be between 1 and 1000") }
            if concurrency > 1 && LanguageThreads.isWorker {
                throw Diagnostic.value("serve tcp: a concurrent server cannot run inside a handler or a task (use concurrency: 1)")
            }
            let tls = try TLSBuiltins.serverSetup(a)
            let listener = try sock { try Listener.listen(addr, backlog: backlog, tls: tls, transcript: a.interp.transcript, cancel: socketCancel) }
            defer { listener.close() }
            listener.onHandshakeFailure = { peer, why in
                FileHandle.standardError.write("serve tcp: TLS handshake with \(peer) failed: \(why)\n".data(using: .utf8)!)
            }
            announce(a.interp, "serve tcp: listening on \(listener.localText)")
            let end = duration.map { Date().addingTimeInterval($0) } ?? Date.distantFuture
            stopRequested = false
            defer { stopRequested = false }
            let interp = a.interp

            let runHandler: (StreamConnection) -> Void = { conn in
                do { _ = try interp.call(handler, [.native(ConnectionValue(conn))]) }
                catch let d as Diagnostic where d.kind != "interrupted" {
                    interp.output.flush()
                    FileHandle.standardError.write("serve tcp: the handler failed for \(conn.peerText): error[\(d.kind)]: \(d.message)\n".data(using: .utf8)!)
                } catch {}
                blockingCall { conn.close() }
            }
            /// The next client, or nil when it is time to stop (accepts in short slices, so
            /// `stop` from a running handler is noticed promptly).
            func nextClient(_ served: Int) throws -> StreamConnection? {
                while !stopRequested, count.map({ served < $0 }) ?? true {
                    let left = end.timeIntervalSinceNow
                    if left <= 0 { return nil }
                    do { return try sock { try listener.accept(timeout: min(left, 0.25), cancel: socketCancel) } }
                    catch let d as Diagnostic where d.kind == "timeout" { continue }
                }
                return nil
            }

            var served = 0
            if concurrency == 1 {
                while let conn = try nextClient(served) {
                    served += 1
                    runHandler(conn)
                }
                return .int(served)
            }

            // Handlers running now; at most `concurrency`. Others wait in the listen backlog.
            final class Running: @unchecked Sendable {
                let cond = NSCondition()
                var count = 0
                func enter(limit: Int, wait: Double) -> Bool {
                    cond.lock(); defer { cond.unlock() }
                    if count >= limit { _ = cond.wait(until: Date().addingTimeInterval(wait)) }
                    guard count < limit else { return false }
                    count += 1
                    return true
                }
                func leave() { cond.lock(); count -= 1; cond.broadcast(); cond.unlock() }
                var active: Int { cond.lock(); defer { cond.unlock() }; return count }
            }
            let running = Running()
            // Tasks' lock when tasks have run; else one for this server alone.
            let ownsLock = activeInterpreterLock == nil
            let lock = activeInterpreterLock ?? InterpreterLock(interp)
            activeInterpreterLock = lock
            var interrupted = false
            defer {
                // Every handler finishes before the lock goes (after `stop`, count: or duration:,
                // the ones still running end by themselves; after Ctrl-C, see below).
                while running.active > 0 {
                    if interrupted { interruptFlag.store(true, ordering: .relaxed) }
                    _ = blockingCall { usleep(2_000) }
                }
                if ownsLock {
                    activeInterpreterLock = nil
                    lock.finish()
                }
            }
            acceptLoop: while true {
                var gotSlot = false
                while !gotSlot {
                    if interruptFlag.load(ordering: .relaxed) { interrupted = true; break acceptLoop }
                    if stopRequested || end.timeIntervalSinceNow <= 0 { break acceptLoop }
                    gotSlot = blockingCall { running.enter(limit: concurrency, wait: 0.1) }
                }
                let conn: StreamConnection
                do {
                    guard let c = try nextClient(served) else { running.leave(); break }
                    conn = c
                } catch let d as Diagnostic where d.kind == "interrupted" {
                    running.leave(); interrupted = true; break
                } catch {
                    running.leave(); throw error
                }
                served += 1
                do {
                    try LanguageThreads.start(label: "client \(served)") {
                        lock.enter { runHandler(conn) }
                        running.leave()
                    }
                } catch {
                    running.leave()
                    blockingCall { conn.close() }
                    throw error
                }
            }
            if interrupted {
                // Wait here (not in defer) so the error is raised once every handler is done.
                // The flag stays raised meanwhile (Interpreter.interrupted() leaves it while a
                // lock is active), so every handler's wait sees the Ctrl-C; then it is cleared.
                while running.active > 0 {
                    interruptFlag.store(true, ordering: .relaxed)
                    _ = blockingCall { usleep(2_000) }
                }
                interruptFlag.store(false, ordering: .relaxed)
                throw Interpreter.interrupted()
            }
            return .int(served)
        }
        r.register("serve.echo", min: 1, max: 2, options: ["udp", "count", "duration", "backlog"] + TLSBuiltins.serverOptions,
                   usage: "serve echo \"HOST:PORT\" [udp: true] [count: N] [duration: SECONDS] [tls: {cert:, key:} [client_ca: FILE] [alpn: [...]]]",
                   summary: "A built-in echo server (TCP, UDP with udp: true, or a Unix socket path) serving many clients at once on the event loops. Runs until Ctrl-C, count: clients have finished (datagrams with udp:) or duration: seconds pass; returns a record of connections, datagrams and bytes. tls: (as listen's) echoes over TLS; handshakes that fail are logged to stderr, counted in tls_failures, and the server goes on.",
                   example: "serve echo \"127.0.0.1:7007\" duration: 60") { a in
            let addr = try address(a, 0)
            let udp = a.optionBool("udp") == true
            let count = try a.optionInt("count")
            let duration = try a.optionNumber("duration")
            let backlog = try a.optionInt("backlog") ?? 1024
            let tls = try TLSBuiltins.serverSetup(a)
            if tls != nil && udp { throw Diagnostic.value("serve echo: tls: is for streams, not udp: true (DTLS is not supported)") }
            let server = try sock {
                try EchoServer.start(addr, udp: udp, backlog: backlog, tls: tls, transcript: a.interp.transcript, cancel: socketCancel,
                                     onHandshakeFailure: { peer, why in
                                         FileHandle.standardError.write("serve echo: TLS handshake with \(peer) failed: \(why)\n".data(using: .utf8)!)
                                     })
            }
            announce(a.interp, "serve echo: listening on \(server.localText)\(udp ? " (udp)" : tls != nil ? " (tls)" : "")")
            let end = duration.map { Date().addingTimeInterval($0) } ?? Date.distantFuture
            var interrupted = false
            while Date() < end {
                if interruptFlag.load(ordering: .relaxed) { interrupted = true; break }
                if let n = count {
                    let s = server.stats.snapshot
                    if (udp ? s.datagrams : s.finished) >= n { break }
                }
                usleep(20_000)
            }
            server.stop()
            if interrupted { throw Interpreter.interrupted() }
            let s = server.stats.snapshot
            var fields: OrderedDictionary<String, Value> = ["connections": .int(s.connections), "datagrams": .int(s.datagrams), "bytes": .int(s.bytes)]
            if tls != nil { fields["tls_failures"] = .int(server.tlsFailures.snapshot.connections) }
            return .native(RecordObject("echo_stats", fields))
        }
        r.register("stop", min: 0, max: 0, usage: "stop",
                   summary: "Inside a serve tcp handler: stop serving once this client is done.",
                   example: "serve tcp \"127.0.0.1:7007\" fn(c) { if (recv.line c) == \"quit\" { stop } }") { _ in
            stopRequested = true
            return .nil
        }
    }

    /// Tells an interactive user where a server listens (scripts stay quiet; the trace has it).
    static func announce(_ interp: Interpreter, _ text: String) {
        interp.output.flush()
        if interp.isInteractive {
            FileHandle.standardError.write((text + " (Ctrl-C stops)\n").data(using: .utf8)!)
        }
    }

    // MARK: host look-ups

    static func registerHosts(_ r: Interpreter) {
        r.register("hostname", min: 0, max: 0, usage: "hostname", summary: "This machine's host name (a string value).",
                   example: "print hostname") { _ in .string(HostLookup.hostname()) }
        // A value, not a command: `len hostname`, `hostname + ".local"` work as on any string.
        r.globals["hostname"] = .string(HostLookup.hostname())
        r.namespace("gethostbyname", summary: "Name to address look-ups: gethostbyname (first IPv4), gethostbyname.all (every address).")
        r.register("gethostbyname", min: 1, max: 1, usage: "gethostbyname NAME",
                   summary: "The first IPv4 address of a name (as text); an error of kind resolve when there is none.",
                   example: "gethostbyname \"localhost\"     # \"127.0.0.1\"") { a in
            let name = try a.string(0)
            return .string(try sock { try HostLookup.addresses(name, family: .v4)[0] })
        }
        let all: (Args) throws -> Value = { a in
            let name = try a.string(0)
            return .list(try sock { try HostLookup.addresses(name) }.map { .string($0) })
        }
        r.register("gethostbyname.all", min: 1, max: 1, usage: "gethostbyname.all NAME",
                   summary: "Every address of a name, IPv4 and IPv6, in the resolver's order.",
                   example: "gethostbyname.all \"localhost\"", all)
        r.register("getaddrinfo", min: 1, max: 1, usage: "getaddrinfo NAME",
                   summary: "Every address of a name, IPv4 and IPv6, in the resolver's order (the same as gethostbyname.all).",
                   example: "for a in getaddrinfo \"localhost\" { print a }", all)
        r.register("gethostbyaddr", min: 1, max: 1, usage: "gethostbyaddr IP",
                   summary: "The name of an address (reverse look-up) as a record: name, aliases, addresses.",
                   example: "(gethostbyaddr \"127.0.0.1\").name") { a in
            let ip: String
            if case .native(let v as IPValue) = a[0] { ip = v.ip.description } else { ip = try a.string(0) }
            let h = try sock { try HostLookup.hostByAddress(ip) }
            return .native(RecordObject("host", ["name": .string(h.name), "aliases": .list(h.aliases.map { .string($0) }),
                                                 "addresses": .list(h.addresses.map { .string($0) })]))
        }
        r.register("getservbyname", min: 1, max: 2, usage: "getservbyname NAME [PROTO=\"tcp\"]",
                   summary: "The port of a service from the services database; an error of kind value when unknown.",
                   example: "getservbyname \"smtp\" \"tcp\"     # 25") { a in
            let name = try a.string(0), proto = a.count > 1 ? try a.string(1) : "tcp"
            guard let p = HostLookup.serviceByName(name, proto: proto) else {
                throw Diagnostic.value("getservbyname: no service '\(name)' for \(proto)")
            }
            return .int(p)
        }
        r.register("getservbyport", min: 1, max: 2, usage: "getservbyport PORT [PROTO=\"tcp\"]",
                   summary: "The service name of a port from the services database; an error of kind value when unknown.",
                   example: "getservbyport 25              # \"smtp\"") { a in
            let port = try a.int(0), proto = a.count > 1 ? try a.string(1) : "tcp"
            guard let s = HostLookup.serviceByPort(port, proto: proto) else {
                throw Diagnostic.value("getservbyport: no service on port \(port)/\(proto)")
            }
            return .string(s)
        }
    }
}
