import Foundation

/// One message at a time, for a learner (and for testing servers): a message built by hand is
/// sent exactly as built, and the answer comes back exactly as the server sent it.
extension DNSClient {
    /// A fresh message id: random, or from a fixed sequence under `--replay` (so a lesson
    /// prints the same every run).
    public static func newID() -> UInt16 { randomID() }

    /// The most messages read while waiting for the one answer (others are noted and dropped).
    static let sendReadLimit = 64

    /// Sends `msg` to `server` as it is — whatever its flags, sections, opcode or id — and
    /// returns the first message that comes back carrying its id. Unlike `query`: no retries,
    /// no switch to TCP when the answer is truncated (the `tc` flag is there to see), rcodes
    /// are not errors, and the answer need not match the question. Errors: a timeout, a
    /// refused or closed connection, an answer that does not decode (`malformed`).
    public func send(_ msg: DNSMessage, server: DNSServer, tcp: Bool = false, timeout: Double = 5) throws -> DNSResponse {
        let wire = try msg.encode()
        let transport = tcp ? "TCP" : "UDP"
        let limit = tcp ? 65535 : 65507
        guard wire.count <= limit else {
            throw DNSError(.syntax, "the message is \(wire.count) bytes; over \(transport) a DNS message holds at most \(limit)")
        }
        let start = Date()
        let deadline = start.addingTimeInterval(timeout)
        let q = msg.questions.first ?? DNSQuestion(.root, .A)
        report(.client, "; message to \(server) (\(transport)), \(wire.count) bytes, sent as built\n" + msg.text())
        if shouldCancel() { throw DNSError(.interrupted, "interrupted") }
        var read = 0
        func answer(_ bytes: [UInt8], _ t: String) throws -> DNSResponse? {
            guard bytes.count >= 2, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == msg.id else {
                report(.note, "; dropped a \(bytes.count)-byte message from \(server): not id \(msg.id)")
                return nil
            }
            let reply: DNSMessage
            do { reply = try DNSMessage(decoding: bytes) } catch let e as DNSError {
                report(.note, "; \(e.message) from \(server)")
                throw DNSError(.malformed, "\(e.message) (the answer from \(server) to message \(msg.id))")
            }
            let elapsed = Date().timeIntervalSince(start)
            let when = WireReplay.shared == nil ? "in \(Int(elapsed * 1000)) ms" : "replayed"
            report(.server, "; answer from \(server) (\(t)) \(when), \(bytes.count) bytes, as received\n" + reply.text())
            if reply.flags.tc && !tcp {
                report(.note, "; the answer is truncated (tc): it did not fit in the UDP size; send it again with tcp: true")
            }
            return DNSResponse(message: reply, question: reply.questions.first ?? q, server: server, elapsed: elapsed,
                               overTCP: tcp, size: bytes.count)
        }
        if tcp {
            let sock = try timeoutNamed(q, server) { try DNSSocket.tcp(server, deadline: deadline, shouldCancel: shouldCancel) }
            try timeoutNamed(q, server) {
                try sock.sendAll([UInt8(wire.count >> 8), UInt8(wire.count & 0xFF)] + wire, deadline: deadline, shouldCancel: shouldCancel)
            }
            while read < DNSClient.sendReadLimit {
                guard let bytes = try timeoutNamed(q, server, { try sock.readMessage(deadline: deadline, shouldCancel: shouldCancel) }) else {
                    report(.note, "; \(server) closed the TCP connection without answering")
                    throw DNSError(.io, "\(server) closed the TCP connection without answering message \(msg.id)")
                }
                read += 1
                if let r = try answer(bytes, "TCP") { return r }
            }
        } else {
            let sock = try DNSSocket.udp(server)
            try sock.sendDatagram(wire)
            while read < DNSClient.sendReadLimit, let (bytes, _) = try sock.receiveDatagram(deadline: deadline, shouldCancel: shouldCancel) {
                read += 1
                if let r = try answer(bytes, "UDP") { return r }
            }
        }
        report(.note, "; no answer from \(server)")
        if read >= DNSClient.sendReadLimit {
            throw DNSError(.malformed, "\(server) sent \(read) messages, none with id \(msg.id)")
        }
        throw DNSError(.timeout, "no answer from \(server) to message \(msg.id) (\(q.name) \(q.type)) within \(DNSClient.seconds(timeout)) s (sent once, over \(transport))")
    }
}

extension DNSRcode {
    /// The number of an rcode given by name (`NXDOMAIN`), or as `RCODEn` or a number.
    public static func code(_ text: String) -> Int? {
        let t = text.uppercased()
        if let (k, _) = names.first(where: { $0.value == t }) { return k }
        let digits = t.hasPrefix("RCODE") ? String(t.dropFirst(5)) : t
        guard let n = Int(digits), n >= 0, n <= 0xFFF else { return nil }
        return n
    }
}

extension DNSOpcode {
    /// The number of an opcode given by name (`NOTIFY`), or as `OPCODEn` or a number.
    public static func code(_ text: String) -> UInt8? {
        let t = text.uppercased()
        if let (k, _) = names.first(where: { $0.value == t }) { return k }
        let digits = t.hasPrefix("OPCODE") ? String(t.dropFirst(6)) : t
        guard let n = UInt8(digits), n <= 15 else { return nil }
        return n
    }
}
