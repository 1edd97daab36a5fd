import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `netscript --record FILE`: every byte each client stream connection exchanged, as JSON
/// lines — `{"conn":1,"event":"open","address":"127.0.0.1:2525","tls":false}`, then
/// `{"conn":1,"event":"send","data":BASE64}` / `"recv"`, `"tls"` (a STARTTLS upgrade) and
/// `"close"`. Recorded at the one point every client stream passes (`StreamConnection`):
/// bytes above TLS, in the order the program sent and consumed them.
public final class WireRecorder: @unchecked Sendable {
    /// The recorder `--record` installs at start-up (before any connection is made).
    nonisolated(unsafe) public static var shared: WireRecorder?
    private let lock = NSLock()
    private let handle: FileHandle
    private var next = 1

    /// Creates (or truncates) the recording at `path`. Throws `SocketError` (`.io`) when the file
    /// cannot be created or opened for writing.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw SocketError(.io, "--record \(path): cannot create the file", address: path)
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw SocketError(.io, "--record \(path): cannot write the file", address: path)
        }
        handle = h
    }

    private func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        handle.write(data + Data([0x0A]))
    }

    /// A new connection to `address`; its number for the events that follow.
    func open(address: String, tls: Bool, kind: String = "stream", local: String? = nil) -> Int {
        lock.lock(); defer { lock.unlock() }
        let id = next
        next += 1
        var o: [String: Any] = ["conn": id, "event": "open", "address": address, "tls": tls, "kind": kind]
        if let local { o["local"] = local }
        write(o)
        return id
    }

    /// `peer`: for a UDP socket's datagram, where it went ("to") or came from ("from").
    func event(_ id: Int, _ name: String, _ data: [UInt8]? = nil, peer: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        var o: [String: Any] = ["conn": id, "event": name]
        if let data { o["data"] = Data(data).base64EncodedString() }
        if let peer { o[name == "send" ? "to" : "from"] = peer }
        write(o)
    }
}

/// `netscript --replay FILE`: each client stream connection is answered from a recording
/// instead of the network. The k-th connection the program opens gets the k-th recorded one,
/// served by a thread over a socket pair: the recorded server bytes are written as they came,
/// and what the program sends is compared with what was recorded; the first difference is
/// kept as `failure` (naming the step, what was recorded and what was sent) and the
/// connection is closed.
public final class WireReplay: @unchecked Sendable {
    /// The replay `--replay` installs at start-up; when set, new client connections and DNS queries
    /// are answered from it instead of the network. nil when not replaying.
    nonisolated(unsafe) public static var shared: WireReplay?

    enum Event { case send([UInt8]), recv([UInt8]), tls, close, sendTo([UInt8], String), recvFrom([UInt8], String) }
    struct Recorded { let id: Int; let address: String; let tls: Bool; let kind: String; var events: [Event]; var local: String? = nil }

    private let lock = NSLock()
    private var connections: [Recorded] = []
    private var next = 0
    private var firstFailure: String?
    /// Connections waiting for bytes the recording says the program sends next:
    /// number → (step, recorded, received so far).
    private var waiting: [Int: (step: Int, expected: [UInt8], got: [UInt8], name: String)] = [:]

    private var dnsID: UInt16 = 0x4e53

    /// DNS query ids under replay: a fixed sequence, so every run prints the same.
    public func nextDNSID() -> UInt16 {
        lock.lock(); defer { lock.unlock() }
        dnsID = dnsID &* 25173 &+ 13849
        return dnsID
    }

    /// The first difference between the program and the recording, or nil.
    public var failure: String? { lock.lock(); defer { lock.unlock() }; return firstFailure }

    /// After the program failed: the first difference, or else the step a connection is
    /// still waiting at (the program stopped sending where the recording sent more, and
    /// most likely waited for a reply that never came).
    public var failureAfterError: String? {
        lock.lock(); defer { lock.unlock() }
        if let firstFailure { return firstFailure }
        guard let k = waiting.keys.min(), let w = waiting[k] else { return nil }
        let how = w.got.isEmpty ? "the script sent nothing and waited" : "the script sent \(WireReplay.show(w.got)) and then waited"
        return "\(w.name), step \(w.step): recorded the client sending \(WireReplay.show(w.expected)); \(how)"
    }

    /// Reads a recording written by `WireRecorder` (the whole file, at once). Throws `SocketError`:
    /// `.io` when the file cannot be read, `.value` naming `path:line` for a line that is not JSON with
    /// `conn` and `event`, an event for a connection never opened, a send/recv without base64
    /// `data`, or an unknown event.
    public init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SocketError(.io, "--replay \(path): cannot read the file", address: path)
        }
        var byID: [Int: Int] = [:]
        for (n, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = o["conn"] as? Int, let ev = o["event"] as? String else {
                throw SocketError(.value, "--replay \(path):\(n + 1): not a recording line (JSON with conn and event)", address: path)
            }
            if ev == "open" {
                byID[id] = connections.count
                connections.append(Recorded(id: id, address: o["address"] as? String ?? "?", tls: o["tls"] as? Bool ?? false,
                                            kind: o["kind"] as? String ?? "stream", events: [], local: o["local"] as? String))
                continue
            }
            guard let i = byID[id] else { throw SocketError(.value, "--replay \(path):\(n + 1): connection \(id) was never opened", address: path) }
            func bytes() throws -> [UInt8] {
                guard let s = o["data"] as? String, let d = Data(base64Encoded: s) else {
                    throw SocketError(.value, "--replay \(path):\(n + 1): \(ev) without base64 data", address: path)
                }
                return Array(d)
            }
            let udp = connections[i].kind == "udp"
            switch ev {
            case "send" where udp: connections[i].events.append(.sendTo(try bytes(), o["to"] as? String ?? ""))
            case "recv" where udp: connections[i].events.append(.recvFrom(try bytes(), o["from"] as? String ?? ""))
            case "send": connections[i].events.append(.send(try bytes()))
            case "recv": connections[i].events.append(.recv(try bytes()))
            case "tls": connections[i].events.append(.tls)
            case "close": connections[i].events.append(.close)
            default: throw SocketError(.value, "--replay \(path):\(n + 1): unknown event \"\(ev)\"", address: path)
            }
        }
    }

    func fail(_ message: String) {
        lock.lock(); if firstFailure == nil { firstFailure = message }; lock.unlock()
    }

    /// The next recorded connection, which must be to `address` and of `kind`.
    private func take(address: String, kind: String) throws -> (Recorded, Int) {
        lock.lock()
        let k = next
        next += 1
        let rec = k < connections.count ? connections[k] : nil
        lock.unlock()
        let what = WireReplay.what(kind)
        guard let rec else {
            let m = "connection \(k + 1): the script opens \(what) \(address), but the recording has only \(connections.count) connection\(connections.count == 1 ? "" : "s")"
            fail(m)
            throw SocketError(.refused, "connect \(address): replay: \(m)", address: address)
        }
        guard rec.address == address, rec.kind == kind else {
            let recorded = WireReplay.what(rec.kind)
            let m = "connection \(k + 1): recorded \(recorded) \(rec.address), the script opens \(what) \(address)"
            fail(m)
            throw SocketError(.refused, "connect \(address): replay: \(m)", address: address)
        }
        return (rec, k)
    }

    /// Opens the next recorded DNS-over-UDP exchange: the program's end of a datagram socket
    /// pair (non-blocking, as the DNS transport wants it).
    func openDatagrams(address: String) throws -> Int32 {
        let fd = try dnsPair(address: address, kind: "dns-udp", SOCK_DGRAM) { [self] rec, n, peer in self.serveDatagrams(rec, number: n, fd: peer) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        return fd
    }

    /// A socket pair of `type` whose far end `serve` plays on a thread of its own (and closes);
    /// the near end, the program's, is returned; nil (errno set) when no pair could be made.
    private func pair(_ type: __socket_type, serve: @escaping @Sendable (Int32) -> Void) -> Int32? {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else { return nil }
        let peer = fds[1]
        Thread { serve(peer) }.start()
        return fds[0]
    }

    /// A DNS message's question in words, for a difference: "A www.example.test. (rd off)".
    static func question(_ b: [UInt8]) -> String {
        guard let m = try? DNSMessage(decoding: b), let q = m.questions.first else { return show(b) }
        return "\(q.type) \(q.name) (rd \(m.flags.rd ? "on" : "off"))"
    }

    /// Plays recorded DNS datagrams: each query must be the recorded one but for its id
    /// (random each run), and the recorded answer goes back carrying the program's id.
    private func serveDatagrams(_ rec: Recorded, number: Int, fd: Int32) {
        defer { Glibc.close(fd) }
        let name = "connection \(number) (DNS over UDP to \(rec.address))"
        var id: [UInt8] = [0, 0]
        var step = 0
        var buf = [UInt8](repeating: 0, count: 65536)
        for ev in rec.events {
            switch ev {
            case .send(let expected):
                step += 1
                lock.lock(); waiting[number] = (step, expected, [], name); lock.unlock()
                let n = Glibc.recv(fd, &buf, buf.count, 0)
                lock.lock(); waiting[number] = nil; lock.unlock()
                if n <= 0 { return }
                let got = Array(buf[0..<n])
                if got.count >= 2 && expected.count >= 2 && got.dropFirst(2).elementsEqual(expected.dropFirst(2)) {
                    id = Array(got.prefix(2))
                    continue
                }
                fail("\(name), step \(step): recorded a query for \(WireReplay.question(expected)); the script sent a query for \(WireReplay.question(got))")
                _ = Glibc.send(fd, [UInt8](), 0, 0)   // an empty datagram: the program's read ends
                return
            case .recv(let data):
                step += 1
                var answer = data
                if answer.count >= 2 { answer[0] = id[0]; answer[1] = id[1] }
                _ = answer.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            case .tls, .close, .sendTo, .recvFrom:
                continue
            }
        }
        // The recording has no more: a further query gets the empty datagram (an error).
        if Glibc.recv(fd, &buf, buf.count, 0) > 0 {
            fail("\(name), step \(step + 1): the recording ends here; the script sent another query")
            _ = Glibc.send(fd, [UInt8](), 0, 0)
        }
    }

    /// Opens the next recorded connection for a program connecting to `address`; the
    /// program's end of the socket pair.
    func open(address: String, tls: Bool) throws -> DirectSocket {
        let (rec, k) = try take(address: address, kind: "stream")
        guard let fd = pair(SOCK_STREAM, serve: { [self] peer in self.serve(rec, number: k + 1, fd: peer) }) else {
            throw SocketError.fromErrno(errno, op: "connect (replay)", address: address)
        }
        return DirectSocket(fd: fd)
    }

    /// A recorded connection's kind in words, for a difference.
    static func what(_ kind: String) -> String {
        switch kind {
        case "dns-udp": return "a DNS query over UDP to"
        case "dns-tcp": return "a DNS connection over TCP to"
        case "udp": return "a UDP socket for"
        default: return "a connection to"
        }
    }

    /// Opens the next recorded DNS-over-TCP connection: the program's end of a stream socket
    /// pair (blocking; the DNS transport reads it as a `DirectSocket`, in 100 ms slices).
    func openDNSStream(address: String) throws -> Int32 {
        try dnsPair(address: address, kind: "dns-tcp", SOCK_STREAM) { [self] rec, n, peer in self.serveDNSStream(rec, number: n, fd: peer) }
    }

    /// The next recorded DNS exchange of `kind` on a socket pair of `type`, its far end played
    /// by `serve` (the recording, its connection number, the fd); failures are `DNSError`s of
    /// kind io, as the DNS transport reports its own.
    private func dnsPair(address: String, kind: String, _ type: __socket_type,
                         serve: @escaping @Sendable (Recorded, Int, Int32) -> Void) throws -> Int32 {
        let rec: Recorded, k: Int
        do { (rec, k) = try take(address: address, kind: kind) }
        catch let e as SocketError { throw DNSError(.io, e.message) }
        guard let fd = pair(type, serve: { peer in serve(rec, k + 1, peer) }) else {
            throw DNSError(.io, "replay: socketpair: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Plays a recorded DNS-over-TCP connection: each length-prefixed query must be the
    /// recorded one but for its id, and each recorded answer (a zone transfer sends several)
    /// goes back carrying the program's id.
    private func serveDNSStream(_ rec: Recorded, number: Int, fd: Int32) {
        defer { Glibc.shutdown(fd, Int32(SHUT_RDWR)); Glibc.close(fd) }
        let name = "connection \(number) (DNS over TCP to \(rec.address))"
        var id: [UInt8] = [0, 0]
        var step = 0
        func readExactly(_ n: Int) -> [UInt8]? {
            var got: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while got.count < n {
                let want = min(buf.count, n - got.count)
                let m = SysCall.retryingSignals { Glibc.recv(fd, &buf, want, 0) }
                if m < 0 { return nil }
                if m == 0 { return nil }
                got += buf[0..<m]
            }
            return got
        }
        func readMessage() -> [UInt8]? {
            guard let len = readExactly(2) else { return nil }
            guard let body = readExactly(Int(len[0]) << 8 | Int(len[1])) else { return nil }
            return len + body
        }
        for ev in rec.events {
            switch ev {
            case .send(let expected):
                step += 1
                lock.lock(); waiting[number] = (step, expected, [], name); lock.unlock()
                let got = readMessage()
                lock.lock(); waiting[number] = nil; lock.unlock()
                guard let got else { return }
                if got.count >= 4 && expected.count >= 4 && got.prefix(2).elementsEqual(expected.prefix(2))
                    && got.dropFirst(4).elementsEqual(expected.dropFirst(4)) {
                    id = [got[2], got[3]]
                    continue
                }
                fail("\(name), step \(step): recorded a query for \(WireReplay.question(Array(expected.dropFirst(2)))); the script sent a query for \(WireReplay.question(Array(got.dropFirst(2))))")
                return
            case .recv(let data):
                step += 1
                var answer = data
                if answer.count >= 4 { answer[2] = id[0]; answer[3] = id[1] }
                var off = 0
                while off < answer.count {
                    let w = answer[off...].withUnsafeBytes { b in SysCall.retryingSignals { Glibc.send(fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL)) } }
                    if w < 0 { return }
                    off += w
                }
            default:
                continue
            }
        }
        // The recording ends: a further query differs (the close ends the program's read).
        if let extra = readMessage() {
            fail("\(name), step \(step + 1): the recording ends here; the script sent a query for \(WireReplay.question(Array(extra.dropFirst(2))))")
        }
    }

    /// Opens the next recorded UDP socket (its peer when connected, else "(unconnected)"):
    /// the cursor its sends are checked against and its datagrams come from.
    public func openUDP(address: String) throws -> DatagramReplay {
        let (rec, k) = try take(address: address, kind: "udp")
        return DatagramReplay(self, rec.events, number: k + 1, address: address, local: rec.local)
    }

    /// What a step's bytes look like in a message.
    static func show(_ b: [UInt8]) -> String { "\"" + Transcript.escape(b, limit: 120) + "\"" }

    /// Plays one recorded connection on `fd`.
    private func serve(_ rec: Recorded, number: Int, fd: Int32) {
        defer { Glibc.shutdown(fd, Int32(SHUT_RDWR)); Glibc.close(fd) }
        let name = "connection \(number) (to \(rec.address))"
        var step = 0
        /// Reads up to `n` bytes, waiting at most `wait` seconds for each; fewer at end of input
        /// or when the program stops sending. `progress` sees what has arrived so far.
        func read(_ n: Int, wait: TimeInterval, progress: ([UInt8]) -> Void = { _ in }) -> (bytes: [UInt8], eof: Bool) {
            var got: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while got.count < n {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let r = SysCall.retryingSignals { poll(&p, 1, Int32(min(wait, 1_000_000) * 1000)) }
                if r < 0 { return (got, true) }
                if r == 0 { return (got, false) }
                let want = min(buf.count, n - got.count)
                let m = SysCall.retryingSignals { Glibc.recv(fd, &buf, want, 0) }
                if m < 0 { return (got, true) }
                if m == 0 { return (got, true) }
                got += buf[0..<m]
                progress(got)
                // A byte that differs already decides the step.
                if wait > 1 { return (got, false) }
            }
            return (got, false)
        }
        /// Reads the `expected` bytes, stopping at the first that differs.
        func readStep(_ expected: [UInt8]) -> (bytes: [UInt8], eof: Bool) {
            var got: [UInt8] = []
            lock.lock(); waiting[number] = (step, expected, [], name); lock.unlock()
            defer { lock.lock(); waiting[number] = nil; lock.unlock() }
            while got.count < expected.count {
                let (more, eof) = read(expected.count - got.count, wait: 1_000_000)
                got += more
                lock.lock(); waiting[number] = (step, expected, got, name); lock.unlock()
                if eof || more.isEmpty { return (got, true) }
                if !expected.starts(with: got) { return (got, false) }
            }
            return (got, false)
        }
        for ev in rec.events {
            switch ev {
            case .recv(let data):
                step += 1
                var off = 0
                while off < data.count {
                    let w = data[off...].withUnsafeBytes { b in SysCall.retryingSignals { Glibc.send(fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL)) } }
                    if w < 0 { return }   // the program closed: it did not need the rest
                    off += w
                }
            case .send(let expected):
                step += 1
                let (got, eof) = readStep(expected)
                if got == expected { continue }
                let diverged = !expected.starts(with: got)
                var sent = got
                if diverged { sent += read(200, wait: 0.2).bytes }   // the rest of what it sent, for the message
                let how: String
                if sent.isEmpty { how = eof ? "the script closed the connection instead" : "the script sent nothing" }
                else { how = "the script sent \(WireReplay.show(sent))\(diverged ? "" : (eof ? " and closed the connection" : " and then nothing more"))" }
                fail("\(name), step \(step): recorded the client sending \(WireReplay.show(expected)); \(how)")
                return
            case .tls, .sendTo, .recvFrom:
                continue
            case .close:
                step += 1
                // The recording does not say when the server closed; a program that reads to
                // the end (an FTP data connection) needs the end before it closes: give it.
                Glibc.shutdown(fd, Int32(SHUT_WR))
                let (extra, _) = read(1 << 16, wait: 1_000_000)
                if !extra.isEmpty {
                    fail("\(name), step \(step): recorded the client closing the connection; the script sent \(WireReplay.show(extra))")
                }
                return
            }
        }
        // The recording ends with the connection open: anything more the program sends differs.
        let (extra, _) = read(1 << 16, wait: 1_000_000)
        if !extra.isEmpty {
            fail("\(name), step \(step + 1): the recording ends here; the script sent \(WireReplay.show(extra))")
        }
    }
}

/// One UDP socket under `--replay`: what the script sends must be what was recorded (the same
/// bytes to the same address); the datagrams recorded as received are handed to the socket
/// as they came — those before its first send at once (a server's first request), the rest
/// after the send they followed.
public final class DatagramReplay: @unchecked Sendable {
    private let replay: WireReplay
    private let events: [WireReplay.Event]
    private let lock = NSLock()
    private var next = 0
    private var step = 0
    let name: String
    /// The local address recorded, so the replayed trace reads the same every run.
    public let local: String?

    init(_ replay: WireReplay, _ events: [WireReplay.Event], number: Int, address: String, local: String?) {
        self.replay = replay; self.events = events; self.local = local
        name = "connection \(number) (UDP socket for \(address))"
    }

    /// The recorded datagrams (data, sender) that come before the script's next send.
    public func arrivals() -> [([UInt8], String)] {
        lock.lock(); defer { lock.unlock() }
        var out: [([UInt8], String)] = []
        while next < events.count {
            guard case .recvFrom(let d, let from) = events[next] else { break }
            out.append((d, from)); next += 1; step += 1
        }
        return out
    }

    /// Checks one send against the recording: a difference is the replay's failure (named as
    /// for streams) and an error of kind io.
    public func sent(_ data: [UInt8], to: String) throws {
        lock.lock()
        while next < events.count, case .tls = events[next] { next += 1 }
        let ev = next < events.count ? events[next] : nil
        step += 1
        let at = step
        lock.unlock()
        let message: String
        switch ev {
        case .sendTo(let d, let dest)?:
            if d == data && dest == to { lock.lock(); next += 1; lock.unlock(); return }
            message = "\(name), step \(at): recorded the script sending \(WireReplay.show(d)) to \(dest); it sent \(WireReplay.show(data)) to \(to)"
        case nil:
            message = "\(name), step \(at): the recording ends here; the script sent \(WireReplay.show(data)) to \(to)"
        default:
            message = "\(name), step \(at): the recording has the socket receive next; the script sent \(WireReplay.show(data)) to \(to)"
        }
        replay.fail(message)
        throw SocketError(.io, "sendto \(to): replay: \(message)", address: to)
    }
}
