import Foundation
import NetKit

/// `dns TYPE NAME`, `dns.reverse`, `dns.axfr`, `dns.parse`: DNS queries as in dig.
enum DNSBuiltins {
    static let queryOptions = ["server", "tcp", "timeout", "retries", "rd", "dnssec", "edns", "class", "key", "tls", "verify", "ca", "sni"]

    /// `key: "[hmac-sha256|hmac-md5:]NAME:BASE64SECRET"`, as dig's -y.
    static func tsigKey(_ a: Args) throws -> DNSTSIGKey? {
        guard let k = try a.optionString("key") else { return nil }
        do { return try DNSTSIGKey(k) } catch { throw dnsDiagnostic(error) }
    }

    static func client(_ a: Args) -> DNSClient {
        DNSClient(transcript: a.interp.transcript, shouldCancel: { interruptFlag.load(ordering: .relaxed) })
    }

    static func server(_ a: Args) throws -> DNSServer? {
        guard let s = try a.optionString("server") else { return nil }
        let port: UInt16 = a.optionBool("tls") == true ? 853 : 53
        do { return try DNSServer.resolving(s, client: client(a), defaultPort: port) } catch { throw dnsDiagnostic(error, question: s, server: nil) }
    }

    /// `tls: true` (DNS over TLS, port 853 unless the server names one), with `verify:`, `ca:`
    /// and `sni:` as for `connect`. A server given by name is the name verified.
    static func tlsOptions(_ a: Args) throws -> TLSOptions? {
        guard a.optionBool("tls") == true else {
            for o in ["verify", "ca", "sni"] where a.option(o) != nil {
                throw Diagnostic.value("\(a.callee): \(o): only applies with tls: true")
            }
            return nil
        }
        var t = TLSOptions(verify: a.optionBool("verify") ?? true, caFile: try a.optionString("ca"), serverName: try a.optionString("sni"))
        if t.serverName == nil, let s = try a.optionString("server") {
            // A server given by name (not an address literal) is the name verified.
            if !s.hasPrefix("["), let host = try? Endpoint.split(s).host, (try? IPAddress(host)) == nil { t.serverName = host }
        }
        return t
    }

    /// `max:` on a zone transfer: bytes of DNS messages at most (64 MiB unless given).
    static func transferMax(_ a: Args) throws -> Int {
        guard let m = try a.optionNumber("max") else { return DNSClient.defaultTransferBytes }
        guard m >= 512, m <= 1e12 else { throw Diagnostic.value("\(a.callee): max: must be a number of bytes from 512 on") }
        return Int(m)
    }

    static func options(_ a: Args) throws -> DNSQueryOptions {
        var o = DNSQueryOptions()
        if a.option("timeout") != nil { o.timeout = try a.timeout(o.timeout, max: 3600) }
        if let r = try a.optionNumber("retries") {
            guard r >= 0, r <= 20 else { throw Diagnostic.value("\(a.callee): retries: must be between 0 and 20") }
            o.retries = Int(r)
        }
        if let v = a.optionBool("tcp") { o.tcp = v }
        if let v = a.optionBool("rd") { o.recursionDesired = v }
        if let v = a.optionBool("dnssec") { o.dnssec = v }
        if let v = a.optionBool("edns") { o.edns = v }
        o.tsig = try tsigKey(a)
        o.tls = try tlsOptions(a)
        if let c = try a.optionString("class") {
            guard let k = DNSClass(c) else { throw Diagnostic.value("\(a.callee): unknown class '\(c)' (IN, CH, HS, ANY or CLASSn)") }
            o.klass = k
        }
        return o
    }

    static func type(_ s: String, _ callee: String) throws -> DNSType {
        guard let t = DNSType(s) else { throw Diagnostic.value("\(callee): unknown record type '\(s)' (A, AAAA, MX, TXT, … or TYPEn)") }
        return t
    }

    /// One query, rcode failures raised as `dns.*` errors; NODATA is an empty answer.
    static func query(_ a: Args, name: String, type: DNSType) throws -> Value {
        let srv = try server(a)
        let opts = try options(a)
        let qtext = "\(name) \(type)"
        do {
            let c = client(a)
            let r = try blockingCall { try c.resolve(name, type, server: srv, options: opts) }
            return .native(DNSResponseValue(r))
        } catch {
            throw dnsDiagnostic(error, question: qtext, server: srv?.description)
        }
    }

    /// Many names at once: a list of responses in the same order, with an error value (not
    /// a raised error) for each name that failed, so one NXDOMAIN does not stop the rest.
    static func queryList(_ a: Args, _ items: [Value], type: DNSType) throws -> Value {
        var names: [DNSName] = []
        for n in items {
            guard case .string(let s) = n else { throw Diagnostic.type("dns: names must be strings, not \(n.typeName.withArticle)") }
            do { names.append(try DNSName(s)) } catch { throw dnsDiagnostic(error) }
        }
        guard let srv = try server(a) ?? ResolvConf.system().nameservers.first else {
            throw Diagnostic.value("dns: needs server: (and /etc/resolv.conf has no nameserver)")
        }
        let opts = try options(a)
        let inFlight = try a.optionInt("concurrency") ?? 64
        guard inFlight >= 1 && inFlight <= 1024 else { throw Diagnostic.value("dns: concurrency: must be between 1 and 1024") }
        let results: [Result<DNSResponse, DNSError>]
        let c = client(a)
        do { results = try blockingCall { try c.resolveMany(names, type, server: srv, options: opts, concurrency: inFlight) } } catch {
            throw dnsDiagnostic(error, server: srv.description)
        }
        return .list(results.enumerated().map { i, r in
            let question = "\(names[i]) \(type)"
            switch r {
            case .success(let resp):
                return .native(DNSResponseValue(resp))
            case .failure(let e):
                return .native(ErrorObject((dnsDiagnostic(e, question: question, server: srv.description) as? Diagnostic) ?? Diagnostic(e.kind.rawValue, e.message)))
            }
        })
    }

    static func register(in r: Interpreter) {
        r.namespace("dns", summary: "DNS queries as dig does them: any record type, zone transfers, reverse lookups; responses and records with typed fields.")
        r.register("dns", min: 1, max: 2, options: queryOptions + ["concurrency"],
                   usage: "dns [TYPE] NAME|[NAMES] [server: \"HOST[:PORT]\"] [tcp: false] [timeout: 5] [retries: 2] [rd: true] [dnssec: false] [edns: true] [class: \"IN\"] [key: \"[hmac-sha256:]NAME:SECRET\"] [tls: false] [verify: true] [ca: \"ca.pem\"] [sni: NAME] [concurrency: 64]",
                   summary: "Asks a DNS server (default: /etc/resolv.conf's) for NAME's records of TYPE (default A). The response iterates as its answer records and has fields rcode flags answer authority additional question server elapsed; records have name ttl type class data and typed fields (address, exchange, preference, target, strings, …). NXDOMAIN, SERVFAIL, REFUSED, … are errors dns.nxdomain, dns.servfail, dns.refused; an empty answer is not. tls: true asks over DNS over TLS (RFC 7858, port 853 unless the server names one; the certificate is verified — the chain, ca: trusting a private CA, and by RFC 9525 the server as given or sni: (help tls); verify: false skips the check; a failure is dns.tls). A list of names (dns NAMES, dns TYPE NAMES) is resolved concurrently (concurrency: in flight) into a list of responses, with an error value in place of each failed one.",
                   example: "for r in dns \"MX\" \"example.test\" server: \"127.0.0.1:5300\" { print r.preference r.exchange }") { a in
            if a.count == 1 {
                if case .list(let names) = a[0] { return try queryList(a, names.items, type: .A) }
                return try query(a, name: try a.string(0), type: .A)
            }
            let t = try type(try a.string(0), "dns")
            if case .list(let names) = a[1] { return try queryList(a, names.items, type: t) }
            return try query(a, name: try a.string(1), type: t)
        }
        r.register("dns.reverse", min: 1, max: 1, options: queryOptions,
                   usage: "dns.reverse IP [server: \"HOST[:PORT]\"] …",
                   summary: "The PTR records of an address, asked under its in-addr.arpa / ip6.arpa name; iterate it or read r.target.",
                   example: "for r in dns.reverse \"192.0.2.25\" server: \"127.0.0.1:5300\" { print r.target }") { a in
            let ip = try AddressBuiltins.toIP(a[0], "dns.reverse")
            return try query(a, name: ip.withoutZone.reverseDNS, type: .PTR)
        }
        r.register("dns.axfr", min: 1, max: 1, options: ["server", "timeout", "class", "key", "max"],
                   usage: "dns.axfr ZONE server: \"HOST[:PORT]\" [timeout: 5] [key: \"[hmac-sha256:]NAME:SECRET\"] [max: 67108864]",
                   summary: "Transfers a whole zone over TCP (AXFR) and returns its records, from the opening SOA to the closing one (which is included); with key:, signed with TSIG and every signature checked. A transfer over max: bytes (64 MiB, about two million records) stops with dns.transfer.",
                   example: "print (len (dns.axfr \"example.test\" server: \"127.0.0.1:5300\"))") { a in
            let zoneText = try a.string(0)
            guard let srv = try server(a) ?? ResolvConf.system().nameservers.first else {
                throw Diagnostic.value("dns.axfr: needs server: (and /etc/resolv.conf has no nameserver)")
            }
            let opts = try options(a)
            do {
                let zone = try DNSName(zoneText)
                let recs = try client(a).axfr(zone, server: srv, timeout: opts.timeout, klass: opts.klass, key: opts.tsig, maxBytes: try transferMax(a))
                return DNSResponseValue.records(recs)
            } catch {
                throw dnsDiagnostic(error, question: "\(zoneText) AXFR", server: srv.description)
            }
        }
        r.register("dns.ixfr", min: 1, max: 1, options: ["server", "serial", "timeout", "class", "key", "max"],
                   usage: "dns.ixfr ZONE serial: N server: \"HOST[:PORT]\" [key: \"[hmac-sha256:]NAME:SECRET\"] [max: 67108864]",
                   summary: "An incremental zone transfer (IXFR) from serial N, records as the server sends them (as dig ixfr=N prints them): the new SOA; for each change the old SOA, deleted records, the new SOA, added records; the new SOA again. Just the SOA when nothing changed.",
                   example: "for r in dns.ixfr \"update.test\" serial: 1 server: \"127.0.0.1:5301\" key: \"hmac-sha256:update-key:c2VjcmV0LXNoYTI1Ni1rZXktZm9yLXRlc3Rz\" { print r }") { a in
            let zoneText = try a.string(0)
            guard let srv = try server(a) else { throw Diagnostic.value("dns.ixfr: needs server:") }
            guard let serial = try a.optionNumber("serial"), serial >= 0, serial <= 4294967295 else { throw Diagnostic.value("dns.ixfr: needs serial: (0 to 4294967295)") }
            let opts = try options(a)
            do {
                let recs = try client(a).ixfr(try DNSName(zoneText), serial: UInt32(serial), server: srv, timeout: opts.timeout, klass: opts.klass, key: opts.tsig, maxBytes: try transferMax(a))
                return DNSResponseValue.records(recs)
            } catch {
                throw dnsDiagnostic(error, question: "\(zoneText) IXFR", server: srv.description)
            }
        }
        r.register("dns.update", min: 1, max: 1, options: ["server", "add", "delete", "exists", "absent", "key", "timeout", "class"],
                   usage: "dns.update ZONE server: \"HOST[:PORT]\" [add: [\"NAME TTL TYPE DATA\"…]] [delete: [\"NAME [TYPE [DATA]]\"…]] [exists: [\"NAME [TYPE [DATA]]\"…]] [absent: [\"NAME [TYPE]\"…]] [key: \"[hmac-sha256:]NAME:SECRET\"]",
                   summary: "A dynamic update (RFC 2136) over TCP: the prerequisites (exists:, absent:) must hold, then delete: and add: are applied together. Names are relative to ZONE unless they end with a dot. Signed with TSIG when key: is given. Failed prerequisites are errors dns.yxdomain, dns.yxrrset, dns.nxrrset; a refused key dns.notauth or dns.tsig.",
                   example: "dns.update \"update.test\" server: \"127.0.0.1:5301\" key: \"hmac-sha256:update-key:c2VjcmV0LXNoYTI1Ni1rZXktZm9yLXRlc3Rz\" add: [\"www 300 A 192.0.2.80\"] delete: [\"old A\"]") { a in
            let zoneText = try a.string(0)
            guard let srv = try server(a) else { throw Diagnostic.value("dns.update: needs server:") }
            let opts = try options(a)
            func texts(_ name: String) throws -> [String] {
                guard let v = a.option(name) else { return [] }
                if case .string(let s) = v { return [s] }
                return try a.interp.iterateToArray(v, what: "dns.update \(name):").map { item in
                    guard case .string(let s) = item else { throw Diagnostic.type("dns.update: \(name): items must be strings, not \(item.typeName.withArticle)") }
                    return s
                }
            }
            do {
                let zone = try DNSName(zoneText)
                let prereq = try texts("exists").map { try DNSUpdate.exists($0, zone: zone) } + texts("absent").map { try DNSUpdate.absent($0, zone: zone) }
                let changes = try texts("delete").map { try DNSUpdate.delete($0, zone: zone) } + texts("add").map { try DNSUpdate.add($0, zone: zone) }
                guard !changes.isEmpty else { throw Diagnostic.value("dns.update: nothing to do (give add: or delete:)") }
                let r = try client(a).update(zone, server: srv, prerequisites: prereq, updates: changes, key: opts.tsig, timeout: opts.timeout, klass: opts.klass)
                if let e = DNSUpdate.error(r.message, zone: zone, server: r.server, prerequisites: prereq, updates: changes) { throw e }
                return .native(DNSResponseValue(r))
            } catch {
                throw dnsDiagnostic(error, question: "\(zoneText) UPDATE", server: srv.description)
            }
        }
        r.register("dns.trace", min: 1, max: 2, options: ["roots", "timeout", "retries", "tcp", "dnssec", "edns", "class"],
                   usage: "dns.trace [TYPE] NAME [roots: [\"HOST[:PORT]\"…]]",
                   summary: "Resolves NAME iteratively from the root servers, as dig +trace: each step is a record with zone, server, referral (the zone it delegates to, or nil) and response. Without roots:, the root servers are asked of /etc/resolv.conf's nameserver.",
                   example: "for s in dns.trace \"A\" \"www.example.test\" roots: [\"127.0.0.1:5302\"] { print s.zone s.server s.referral }") { a in
            let (typeText, nameText) = a.count == 1 ? ("A", try a.string(0)) : (try a.string(0), try a.string(1))
            let t = try type(typeText, "dns.trace")
            let opts = try options(a)
            var roots: [DNSServer]? = nil
            if let v = a.option("roots") {
                roots = try a.interp.iterateToArray(v, what: "dns.trace roots:").map { item in
                    guard case .string(let s) = item else { throw Diagnostic.type("dns.trace: roots: must be strings") }
                    do { return try DNSServer(s) } catch { throw dnsDiagnostic(error) }
                }
            }
            do {
                let steps = try client(a).trace(try DNSName(nameText), t, roots: roots, options: opts)
                let last = steps.last!
                _ = try last.response.checked()
                return .list(steps.map { st in
                    .native(RecordObject("dns_trace_step", ["zone": .string(st.zone.description), "server": .string(st.server.description),
                                                            "referral": st.referral.map { .string($0.description) } ?? .nil,
                                                            "response": .native(DNSResponseValue(st.response))]))
                })
            } catch {
                throw dnsDiagnostic(error, question: "\(nameText) \(t)")
            }
        }
        r.register("dns.parse", min: 1, max: 1, options: ["origin", "ttl"],
                   usage: "dns.parse \"NAME [TTL] [CLASS] TYPE DATA\" [origin: \"zone.\"] [ttl: 3600]",
                   summary: "A record from a zone-file line (any type; \\# LEN HEX for unknown ones), with the same fields as an answer record.",
                   example: "(dns.parse \"example.test. 300 IN MX 10 mail.example.test.\").exchange") { a in
            do {
                let origin = try a.optionString("origin").map { try DNSName($0) }
                let ttl = try a.optionNumber("ttl").map { UInt32(max(0, min($0, 4294967295))) } ?? 3600
                return .native(DNSRecordValue(try DNSRecord(try a.string(0), origin: origin, defaultTTL: ttl)))
            } catch { throw dnsDiagnostic(error) }
        }
    }
}
