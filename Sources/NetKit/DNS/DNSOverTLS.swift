import Foundation

/// DNS over TLS (RFC 7858): the TCP framing (a two-byte length before each message) inside a
/// TLS stream to port 853, the server's certificate verified like any TLS client's. One
/// connection carries many queries in turn (`queryMany` reuses it).
extension DNSClient {
    /// Opens a TLS connection to a DNS server; socket failures become DNS errors naming it.
    func openTLS(_ server: DNSServer, _ tls: TLSOptions, timeout: Double) throws -> StreamConnection {
        report(.note, "; connecting to \(server) (TLS)")
        do {
            return try StreamConnection.connect(server.description, timeout: timeout, tls: tls, transcript: nil, cancel: shouldCancel)
        } catch let e as SocketError {
            throw DNSClient.dnsError(e, server)
        }
    }

    static func dnsError(_ e: SocketError, _ server: DNSServer) -> DNSError {
        switch e.kind {
        case .timeout: return DNSError(.timeout, "DNS over TLS: \(e.message)")
        case .tls: return DNSError(.tls, "DNS over TLS: \(e.message)")
        case .interrupted: return DNSError(.interrupted, "interrupted")
        default: return DNSError(.io, "DNS over TLS to \(server): \(e.message)")
        }
    }

    /// Reads exactly `count` bytes, or nil at end of stream before the first byte.
    func readExactly(_ conn: StreamConnection, _ count: Int, deadline: Date, server: DNSServer) throws -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw DNSError(.timeout, "no answer from \(server) over TLS before the timeout") }
            let chunk: [UInt8]?
            do { chunk = try conn.recv(max: count - out.count, timeout: left) } catch let e as SocketError {
                throw DNSClient.dnsError(e, server)
            }
            guard let chunk else {
                if out.isEmpty { return nil }
                throw DNSError.malformed("TLS stream from \(server) closed in the middle of a message")
            }
            out += chunk
        }
        return out
    }

    /// Asks one question on an open DNS-over-TLS connection and returns the matching answer.
    func exchangeTLS(_ conn: StreamConnection, _ q: DNSQuestion, server: DNSServer, edns: DNSEDNS?, options: DNSQueryOptions) throws -> DNSResponse {
        let msg = DNSMessage.query(q, id: DNSClient.randomID(), rd: options.recursionDesired, edns: edns, ad: options.dnssec)
        let (wire, requestMAC) = try signed(msg, options.tsig)
        let start = Date()
        let deadline = start.addingTimeInterval(options.timeout)
        report(.client, "; query to \(server) (TLS)\n" + msg.text())
        do { try conn.send([UInt8(wire.count >> 8), UInt8(wire.count & 0xFF)] + wire, timeout: options.timeout) }
        catch let e as SocketError { throw DNSClient.dnsError(e, server) }
        return try awaitStreamAnswer(msg, q, server: server, transport: "TLS", tsig: options.tsig, requestMAC: requestMAC, start: start) {
            guard let head = try readExactly(conn, 2, deadline: deadline, server: server) else { return nil }
            guard let bytes = try readExactly(conn, Int(head[0]) << 8 | Int(head[1]), deadline: deadline, server: server) else {
                throw DNSError.malformed("TLS stream from \(server) closed in the middle of a message")
            }
            return bytes
        }
    }

    /// Many names over one TLS connection, one after another; a failed name gets its error and
    /// the rest go on (on a fresh connection if the server closed this one).
    func queryManyTLS(_ names: [DNSName], _ type: DNSType, server: DNSServer, tls: TLSOptions,
                      options: DNSQueryOptions) throws -> [Result<DNSResponse, DNSError>] {
        let edns = options.edns || options.dnssec ? DNSEDNS(udpSize: options.udpSize, dnssecOK: options.dnssec) : nil
        var conn: StreamConnection? = nil
        defer { conn?.close(timeout: 0.5) }
        var out: [Result<DNSResponse, DNSError>] = []
        out.reserveCapacity(names.count)
        for name in names {
            if shouldCancel() { throw DNSError(.interrupted, "interrupted") }
            do {
                if conn == nil || conn!.peerGone { conn?.abandon(); conn = try openTLS(server, tls, timeout: options.timeout) }
                out.append(.success(try exchangeTLS(conn!, DNSQuestion(name, type, options.klass), server: server, edns: edns, options: options)))
            } catch let e as DNSError {
                if e.kind == .interrupted { throw e }
                if e.kind == .tls { throw e }
                conn?.abandon(); conn = nil
                out.append(.failure(e))
            }
        }
        return out
    }
}
