import Foundation

/// What a query asks for besides the question.
public struct DNSQueryOptions: Sendable {
    /// The class to ask in; `IN` unless set (`CH` for `version.bind`).
    public var klass: DNSClass = .IN
    /// Use TCP from the start (UDP falls back to TCP by itself when the answer is truncated).
    public var tcp = false
    /// Seconds to wait for each try.
    public var timeout: Double = 5
    /// Extra tries over UDP after the first one times out.
    public var retries = 2
    /// Sets the RD bit: asks the server to resolve the name itself. `trace` clears it.
    public var recursionDesired = true
    /// Sets the DO bit (and CD) so DNSSEC records come back.
    public var dnssec = false
    /// Sends an OPT record (EDNS(0), RFC 6891) advertising `udpSize`; false sends a plain RFC 1035
    /// query unless `dnssec` is set, which needs EDNS.
    public var edns = true
    /// The UDP payload size in bytes advertised with EDNS; a larger answer comes truncated and is
    /// asked again over TCP.
    public var udpSize: UInt16 = 1232
    /// Signs the query and requires a signed answer.
    public var tsig: DNSTSIGKey? = nil
    /// DNS over TLS (RFC 7858): queries go over a TLS stream (port 853 by default) with the
    /// certificate verified unless `verify` is false.
    public var tls: TLSOptions? = nil
    /// Defaults: class IN over UDP, 5 s a try, 2 retries, recursion desired, EDNS with 1232 bytes.
    public init() {}
}

/// A response with where and how it came.
public struct DNSResponse: Sendable {
    /// The decoded answer, checked to answer the question (and signed, when a TSIG key was given).
    /// Its rcode is not turned into an error here: see `rcodeError` and `checked()`.
    public var message: DNSMessage
    /// The question as it was sent (after search-list expansion).
    public var question: DNSQuestion
    /// The server that answered.
    public var server: DNSServer
    /// Seconds from sending the query to the answer.
    public var elapsed: Double
    /// True when the answer came over a stream: TCP asked for, a truncated UDP answer asked again,
    /// a transfer, or DNS over TLS.
    public var overTCP: Bool
    /// The answer's size in bytes as received (without TCP's two-byte length prefix).
    public var size: Int
    /// DNS over TLS (then `overTCP` is true as well: the same framing).
    public var overTLS = false
}

/// `/etc/resolv.conf`: nameservers, search list, ndots.
public struct ResolvConf: Sendable {
    /// The `nameserver` lines in order (ones that do not parse are skipped); empty when there are none.
    public var nameservers: [DNSServer] = []
    /// The search list, from the last `search` or `domain` line.
    public var search: [DNSName] = []
    /// `options ndots:N`, capped at 15: a name with at least this many dots is tried as typed
    /// before the search list, one with fewer after it.
    public var ndots = 1
    /// An empty configuration: no nameservers, no search list, ndots 1.
    public init() {}

    /// Parses resolv.conf(5) text: `nameserver`, `search`/`domain` and `options ndots:`; other
    /// lines and `#`/`;` comments are ignored, and nothing in the text is an error.
    public init(text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let key = words.first, !key.hasPrefix("#"), !key.hasPrefix(";") else { continue }
            switch key {
            case "nameserver": if words.count > 1, let s = try? DNSServer(words[1]) { nameservers.append(s) }
            case "search", "domain": search = words.dropFirst().compactMap { try? DNSName($0) }
            case "options":
                for o in words.dropFirst() where o.hasPrefix("ndots:") { ndots = min(15, Int(o.dropFirst(6)) ?? 1) }
            default: break
            }
        }
    }

    /// Reads the resolver configuration at `path`; an unreadable or missing file gives the empty
    /// configuration rather than an error.
    public static func system(path: String = "/etc/resolv.conf") -> ResolvConf {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ResolvConf() }
        return ResolvConf(text: text)
    }

    /// The names to try for what the user typed, in order (resolv.conf(5) rules).
    public func candidates(_ text: String) throws -> [DNSName] {
        let (name, absolute) = try DNSName.parse(text)
        if absolute || search.isEmpty { return [name] }
        let expanded = search.compactMap { try? name.appending($0) }
        return text.filter({ $0 == "." }).count >= ndots ? [name] + expanded : expanded + [name]
    }
}

/// A stub resolver: asks one server a question over UDP (TCP when truncated or asked),
/// checks the answer belongs to the question, and reports each step to a Transcript.
public final class DNSClient {
    /// Where each query and answer is recorded, as dig would print them; nil records nothing.
    public let transcript: Transcript?
    /// Polled at least every 100 ms while waiting; true aborts with `.interrupted`.
    public var shouldCancel: () -> Bool

    /// A client that reports to `transcript` and polls `shouldCancel` while it waits.
    public init(transcript: Transcript? = nil, shouldCancel: @escaping () -> Bool = { false }) {
        self.transcript = transcript
        self.shouldCancel = shouldCancel
    }

    static func randomID() -> UInt16 {
        // Under --replay the answers come from a recording: ids from a fixed sequence make
        // every run print the same (the replayer gives each answer the query's id).
        if let replay = WireReplay.shared { return replay.nextDNSID() }
        var g = SystemRandomNumberGenerator()
        return UInt16.random(in: 0...UInt16.max, using: &g)
    }

    /// Resolves `name` (text as the user typed it) and returns the response as it came: an
    /// rcode such as NXDOMAIN is in the message, not thrown (`resolve` throws it). Without a
    /// server, uses the nameservers and search rules of `resolvConf` (`/etc/resolv.conf` when
    /// nil), trying the next server when one times out or cannot be reached; of the search
    /// candidates, the first with answers wins, else the first NODATA, else the last response.
    /// Throws `DNSError`: `.syntax` for a bad name, `.io` when there is no nameserver, and the
    /// last server's `.timeout`, `.io` or `.connectionRefused` when none answered.
    public func query(_ name: String, _ type: DNSType, server: DNSServer? = nil, options: DNSQueryOptions = DNSQueryOptions(),
                      resolvConf: ResolvConf? = nil) throws -> DNSResponse {
        if let server { return try query(DNSName(name), type, server: server, options: options) }
        let conf = resolvConf ?? ResolvConf.system()
        guard !conf.nameservers.isEmpty else { throw DNSError(.io, "no server given and no nameserver in /etc/resolv.conf") }
        // Each search candidate in turn: the first with answers wins; otherwise the first
        // NODATA, else the last failure (NXDOMAIN, SERVFAIL, REFUSED) is returned.
        var last: DNSResponse? = nil, nodata: DNSResponse? = nil
        for candidate in try conf.candidates(name) {
            var lastError: Error? = nil
            var got: DNSResponse? = nil
            for s in conf.nameservers {
                do {
                    got = try query(candidate, type, server: s, options: options)
                    lastError = nil
                    break
                } catch let e as DNSError where e.kind == .timeout || e.kind == .io || e.kind == .connectionRefused { lastError = e }
            }
            if let e = lastError { throw e }
            guard let r = got else { continue }
            if r.message.rcode == 0 && !r.message.answers.isEmpty { return r }
            if r.message.rcode == 0 && nodata == nil { nodata = r }
            last = r
        }
        return nodata ?? last!
    }

    /// Asks one server one question.
    public func query(_ name: DNSName, _ type: DNSType, server: DNSServer, options: DNSQueryOptions = DNSQueryOptions()) throws -> DNSResponse {
        let q = DNSQuestion(name, type, options.klass)
        let edns = options.edns || options.dnssec ? DNSEDNS(udpSize: options.udpSize, dnssecOK: options.dnssec) : nil
        if let tls = options.tls {
            let conn = try openTLS(server, tls, timeout: options.timeout)
            defer { conn.close(timeout: 0.5) }
            return try exchangeTLS(conn, q, server: server, edns: edns, options: options)
        }
        if options.tcp || type == .AXFR || type == .IXFR {
            return try queryTCP(q, server: server, edns: edns, options: options)
        }
        var malformed: DNSError? = nil
        for attempt in 0...max(0, options.retries) {
            let msg = DNSMessage.query(q, id: DNSClient.randomID(), rd: options.recursionDesired, edns: edns, ad: options.dnssec)
            let (wire, requestMAC) = try signed(msg, options.tsig)
            report(.client, attempt == 0 ? "; query to \(server) (UDP)\n" + msg.text() : "; retry \(attempt) to \(server) (UDP), id \(msg.id)")
            let sock = try DNSSocket.udp(server)
            let start = Date()
            let deadline = start.addingTimeInterval(options.timeout)
            // Checked before the query goes: step mode's `q` abandons a step this way.
            if shouldCancel() { throw DNSError(.interrupted, "interrupted") }
            try sock.sendDatagram(wire)
            while let (bytes, from) = try sock.receiveDatagram(deadline: deadline, shouldCancel: shouldCancel) {
                // Only the server we asked, with our id, may answer: everything else is dropped.
                guard from == server, bytes.count >= 2, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == msg.id else {
                    report(.note, "; dropped a \(bytes.count)-byte datagram from \(from?.description ?? "?") (wrong id or source)")
                    continue
                }
                let reply: DNSMessage
                do { reply = try DNSMessage(decoding: bytes) } catch let e as DNSError {
                    report(.note, "; \(e.message) from \(server)")
                    malformed = DNSError(.malformed, "\(e.message) (answer from \(server) to \(name) \(type))")
                    continue
                }
                guard matches(reply, q) else {
                    report(.note, "; dropped an answer from \(server) that does not match the question")
                    continue
                }
                try checkSignature(bytes, options.tsig, requestMAC, q, server)
                let elapsed = Date().timeIntervalSince(start)
                if reply.flags.tc {
                    report(.note, "; truncated answer (\(bytes.count) bytes): retrying over TCP")
                    return try queryTCP(q, server: server, edns: edns, options: options)
                }
                report(.server, "; answer from \(server) (UDP) \(WireReplay.shared == nil ? "in \(Int(elapsed * 1000)) ms" : "replayed"), \(bytes.count) bytes\n" + reply.text())
                return DNSResponse(message: reply, question: q, server: server, elapsed: elapsed, overTCP: false, size: bytes.count)
            }
            if let m = malformed { throw m }
        }
        let tries = max(0, options.retries) + 1
        report(.note, "; no answer from \(server)")
        throw DNSError(.timeout, "no answer from \(server) for \(name) \(type) after \(tries) tr\(tries == 1 ? "y" : "ies") of \(DNSClient.seconds(options.timeout)) s")
    }

    static func seconds(_ t: Double) -> String { t == t.rounded() ? String(Int(t)) : String(t) }

    func matches(_ reply: DNSMessage, _ q: DNSQuestion) -> Bool {
        guard reply.flags.qr else { return false }
        if reply.questions.isEmpty { return reply.rcode == 1 || reply.rcode == 4 }
        guard reply.questions.count == 1, let rq = reply.questions.first else { return false }
        return rq.name == q.name && rq.type == q.type && rq.klass == q.klass
    }

    func queryTCP(_ q: DNSQuestion, server: DNSServer, edns: DNSEDNS?, options: DNSQueryOptions) throws -> DNSResponse {
        let msg = DNSMessage.query(q, id: DNSClient.randomID(), rd: options.recursionDesired, edns: edns, ad: options.dnssec)
        return try exchangeTCP(msg, q, server: server, timeout: options.timeout, tsig: options.tsig)
    }

    /// Sends one message over TCP and returns the answer that matches it.
    func exchangeTCP(_ msg: DNSMessage, _ q: DNSQuestion, server: DNSServer, timeout: Double, tsig: DNSTSIGKey?) throws -> DNSResponse {
        let (wire, requestMAC) = try signed(msg, tsig)
        let start = Date()
        let deadline = start.addingTimeInterval(timeout)
        report(.client, "; \(msg.opcode == 5 ? "update" : "query") to \(server) (TCP)\n" + msg.text())
        let sock = try timeoutNamed(q, server) { try DNSSocket.tcp(server, deadline: deadline, shouldCancel: shouldCancel) }
        try timeoutNamed(q, server) {
            try sock.sendAll([UInt8(wire.count >> 8), UInt8(wire.count & 0xFF)] + wire, deadline: deadline, shouldCancel: shouldCancel)
        }
        return try awaitStreamAnswer(msg, q, server: server, transport: "TCP", tsig: tsig, requestMAC: requestMAC, start: start) {
            try sock.readMessage(deadline: deadline, shouldCancel: shouldCancel)
        }
    }

    /// Reads messages from a stream (TCP, or TLS) until the answer to `msg` comes: others are
    /// dropped, the answer is checked (TSIG) and returned. `next` gives the next message's
    /// bytes, nil when the server closed the stream.
    func awaitStreamAnswer(_ msg: DNSMessage, _ q: DNSQuestion, server: DNSServer, transport: String, tsig: DNSTSIGKey?,
                           requestMAC: [UInt8], start: Date, next: () throws -> [UInt8]?) throws -> DNSResponse {
        while true {
            guard let bytes = try timeoutNamed(q, server, next) else {
                throw DNSError(.io, "\(server) closed the \(transport) connection without answering \(q.name) \(q.type)")
            }
            let reply: DNSMessage
            do { reply = try DNSMessage(decoding: bytes) } catch let e as DNSError {
                throw DNSError(.malformed, "\(e.message) (answer from \(server) to \(q.name) \(q.type))")
            }
            guard reply.id == msg.id, matches(reply, q) else {
                report(.note, "; dropped a \(transport) message from \(server) that does not match the question")
                continue
            }
            try checkSignature(bytes, tsig, requestMAC, q, server)
            let elapsed = Date().timeIntervalSince(start)
            report(.server, "; answer from \(server) (\(transport)) \(WireReplay.shared == nil ? "in \(Int(elapsed * 1000)) ms" : "replayed"), \(bytes.count) bytes\n" + reply.text())
            return DNSResponse(message: reply, question: q, server: server, elapsed: elapsed, overTCP: true, size: bytes.count,
                               overTLS: transport == "TLS")
        }
    }

    /// Adds the question and server to a timeout raised deep in the transport.
    func timeoutNamed<T>(_ q: DNSQuestion, _ server: DNSServer, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as DNSError where e.kind == .timeout {
            throw DNSError(.timeout, "\(e.message) (\(q.name) \(q.type))")
        }
    }

    func signed(_ msg: DNSMessage, _ key: DNSTSIGKey?) throws -> ([UInt8], [UInt8]) {
        let wire = try msg.encode()
        guard let key else { return (wire, []) }
        let s = DNSTSIG.sign(wire, key: key)
        return (s.wire, s.mac)
    }

    func checkSignature(_ bytes: [UInt8], _ key: DNSTSIGKey?, _ requestMAC: [UInt8], _ q: DNSQuestion, _ server: DNSServer) throws {
        guard let key else { return }
        do {
            guard try DNSTSIG.verify(bytes, key: key, requestMAC: requestMAC) != nil else {
                throw DNSError(.tsig, "TSIG: the answer is not signed")
            }
        } catch let e as DNSError {
            report(.note, "; \(e.message)")
            throw DNSError(e.kind == .tsig ? .tsig : .malformed, "\(e.message) (\(q.name) \(q.type) at \(server))")
        }
    }

    /// A dynamic update (RFC 2136) of `zone`: prerequisites, then the changes, over TCP (a
    /// retried UDP update could be applied twice), signed with `key` when given.
    public func update(_ zone: DNSName, server: DNSServer, prerequisites: [DNSRecord] = [], updates: [DNSRecord],
                       key: DNSTSIGKey? = nil, timeout: Double = 5, klass: DNSClass = .IN) throws -> DNSResponse {
        var m = DNSMessage()
        m.id = DNSClient.randomID()
        m.opcode = 5
        let q = DNSQuestion(zone, .SOA, klass)
        m.questions = [q]
        m.answers = prerequisites
        m.authority = updates
        m.edns = nil
        return try exchangeTCP(m, q, server: server, timeout: timeout, tsig: key)
    }

    /// A zone transfer (AXFR over TCP): every record from the opening SOA to the closing
    /// one. `timeout` bounds each read; `totalTimeout` the whole transfer; `maxRecords` and
    /// `maxBytes` (of DNS messages received; 64 MiB holds about two million records and keeps
    /// the decoded zone well under 1 GB of memory) its size.
    public func axfr(_ zone: DNSName, server: DNSServer, timeout: Double = 5, totalTimeout: Double = 300,
                     klass: DNSClass = .IN, key: DNSTSIGKey? = nil, maxRecords: Int = 5_000_000,
                     maxBytes: Int = DNSClient.defaultTransferBytes) throws -> [DNSRecord] {
        try transfer(zone, server: server, ixfrSerial: nil, timeout: timeout, totalTimeout: totalTimeout, klass: klass, key: key,
                     maxRecords: maxRecords, maxBytes: maxBytes)
    }

    /// An incremental transfer (IXFR, RFC 1995) from `serial`, over TCP. The records come as
    /// the server sends them: the new SOA, then for each change the old SOA and the deleted
    /// records, the new SOA and the added ones, then the new SOA again; or the whole zone
    /// between two SOAs when the server cannot send differences; or just the SOA when the
    /// zone has not changed.
    public func ixfr(_ zone: DNSName, serial: UInt32, server: DNSServer, timeout: Double = 5, totalTimeout: Double = 300,
                     klass: DNSClass = .IN, key: DNSTSIGKey? = nil, maxRecords: Int = 5_000_000,
                     maxBytes: Int = DNSClient.defaultTransferBytes) throws -> [DNSRecord] {
        try transfer(zone, server: server, ixfrSerial: serial, timeout: timeout, totalTimeout: totalTimeout, klass: klass, key: key,
                     maxRecords: maxRecords, maxBytes: maxBytes)
    }

    static func serial(_ r: DNSRecord) -> UInt32? {
        guard r.type == .SOA, case .int(let v)? = r.field("serial") else { return nil }
        return v
    }

    /// The default bound on a zone transfer's bytes (see `axfr`).
    public static let defaultTransferBytes = 64 << 20

    func transfer(_ zone: DNSName, server: DNSServer, ixfrSerial: UInt32?, timeout: Double, totalTimeout: Double,
                  klass: DNSClass, key: DNSTSIGKey?, maxRecords: Int, maxBytes: Int) throws -> [DNSRecord] {
        let kind = ixfrSerial == nil ? "AXFR" : "IXFR"
        let q = DNSQuestion(zone, ixfrSerial == nil ? .AXFR : .IXFR, klass)
        var msg = DNSMessage.query(q, id: DNSClient.randomID(), rd: false, edns: nil)
        if let serial = ixfrSerial {
            msg.authority = [DNSRecord(name: zone, type: .SOA, klass: klass, ttl: 0,
                                       data: .fields([.name(.root), .name(.root), .int(serial), .int(0), .int(0), .int(0), .int(0)]))]
        }
        var newSerialSeen = 0
        var incremental = false
        var (wire, lastMAC) = try signed(msg, key)
        var unsignedSince: [UInt8] = []
        let start = Date()
        let end = start.addingTimeInterval(totalTimeout)
        func deadline() -> Date { min(end, Date().addingTimeInterval(timeout)) }
        report(.client, "; \(kind) query to \(server) (TCP)\n" + msg.text())
        let sock = try timeoutNamed(q, server) { try DNSSocket.tcp(server, deadline: deadline(), shouldCancel: shouldCancel) }
        try timeoutNamed(q, server) {
            try sock.sendAll([UInt8(wire.count >> 8), UInt8(wire.count & 0xFF)] + wire, deadline: deadline(), shouldCancel: shouldCancel)
        }
        var records: [DNSRecord] = []
        var messages = 0, bytesIn = 0
        while true {
            guard let bytes = try timeoutNamed(q, server, { try sock.readMessage(deadline: deadline(), shouldCancel: shouldCancel) }) else {
                throw DNSError(.transfer, "\(server) closed the connection before the closing SOA of \(zone) (\(records.count) records so far)")
            }
            let reply: DNSMessage
            do { reply = try DNSMessage(decoding: bytes) } catch let e as DNSError {
                throw DNSError(.malformed, "\(e.message) (\(kind) of \(zone) from \(server))")
            }
            guard reply.id == msg.id, reply.flags.qr else { continue }
            messages += 1; bytesIn += bytes.count
            guard bytesIn <= maxBytes else {
                throw DNSError(.transfer, "\(kind) of \(zone) from \(server): more than \(maxBytes) bytes (\(records.count) records) without the closing SOA; max: raises the limit")
            }
            if let key {
                // The first message carries the full TSIG variables; later ones chain on the
                // previous MAC and may leave up to 99 messages in between unsigned.
                do {
                    if let mac = try DNSTSIG.verify(bytes, key: key, requestMAC: lastMAC, unsigned: unsignedSince, timersOnly: messages > 1) {
                        lastMAC = mac; unsignedSince = []
                    } else {
                        guard messages > 1 else { throw DNSError(.tsig, "TSIG: the first message of the transfer is not signed") }
                        unsignedSince += bytes
                    }
                } catch let e as DNSError {
                    throw DNSError(e.kind == .tsig ? .tsig : .malformed, "\(e.message) (\(kind) of \(zone) from \(server))")
                }
            }
            if let e = DNSClient.rcodeError(reply, q, server) { throw e }
            if messages == 1 {
                guard let first = reply.answers.first, first.type == .SOA else {
                    throw DNSError(.transfer, "\(kind) of \(zone) from \(server) did not start with a SOA record")
                }
            }
            guard records.count + reply.answers.count <= maxRecords else {
                throw DNSError(.transfer, "\(kind) of \(zone) from \(server): more than \(maxRecords) records without the closing SOA")
            }
            for (i, r) in reply.answers.enumerated() {
                records.append(r)
                if let serial = ixfrSerial, let newSerial = DNSClient.serial(records[0]) {
                    // IXFR ends at the third new SOA (incremental), the second (whole zone),
                    // or right after the first when the zone is unchanged.
                    if records.count == 1 && newSerial == serial && i == reply.answers.count - 1 && messages == 1 {
                        report(.server, "; IXFR of \(zone) from \(server): serial \(serial) is current")
                        return records
                    }
                    if records.count == 2 { incremental = r.type == .SOA }
                    if DNSClient.serial(r) == newSerial { newSerialSeen += 1 }
                    guard newSerialSeen == (incremental ? 3 : 2) else { continue }
                } else if !(r.type == .SOA && records.count > 1) {
                    continue
                }
                if key != nil, !unsignedSince.isEmpty { throw DNSError(.tsig, "TSIG: the last message of the transfer of \(zone) is not signed") }
                guard i == reply.answers.count - 1 else { throw DNSError(.transfer, "records after the closing SOA of \(zone)") }
                let elapsed = Date().timeIntervalSince(start)
                report(.server, "; \(kind) of \(zone) from \(server): \(records.count) records in \(messages) message\(messages == 1 ? "" : "s"), \(bytesIn) bytes\(WireReplay.shared == nil ? ", \(Int(elapsed * 1000)) ms" : "")")
                return records
            }
        }
    }

    /// The error an rcode stands for, naming the question and server; nil for NOERROR and
    /// rcodes that are not failures of the query itself.
    public static func rcodeError(_ m: DNSMessage, _ q: DNSQuestion, _ server: DNSServer) -> DNSError? {
        let what = "\(q.name) \(q.type) at \(server)"
        switch m.rcode {
        case 0: return nil
        case 1: return DNSError(.formerr, "FORMERR: \(server) could not understand the query for \(q.name) \(q.type)")
        case 2: return DNSError(.servfail, "SERVFAIL: \(server) failed to answer \(q.name) \(q.type)")
        case 3: return DNSError(.nxdomain, "NXDOMAIN: \(q.name) does not exist (asked \(what))")
        case 4: return DNSError(.notimp, "NOTIMP: \(server) does not implement the query for \(q.name) \(q.type)")
        case 5: return DNSError(.refused, "REFUSED: \(server) refused to answer \(q.name) \(q.type)")
        case 6: return DNSError(.yxdomain, "YXDOMAIN: a name that must not exist does (update of \(q.name) at \(server))")
        case 7: return DNSError(.yxrrset, "YXRRSET: an RRset that must not exist does (update of \(q.name) at \(server))")
        case 8: return DNSError(.nxrrset, "NXRRSET: an RRset that must exist does not (update of \(q.name) at \(server))")
        case 9: return DNSError(.notauth, "NOTAUTH: \(server) is not authoritative for \(q.name) (or did not accept the key)")
        case 10: return DNSError(.notzone, "NOTZONE: a name in the update is outside \(q.name) (at \(server))")
        default: return DNSError(.rcode, "\(DNSRcode.name(m.rcode)) for \(what)")
        }
    }

    func report(_ dir: TranscriptDirection, _ text: @autoclosure () -> String) {
        guard let t = transcript else { return }
        var s = text()
        while s.hasSuffix("\n") { s.removeLast() }
        t.record("dns", dir, s)
    }
}
