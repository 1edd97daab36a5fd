import Foundation

/// One step of an iterative resolution: who was asked, and what they said.
public struct DNSTraceStep: Sendable {
    /// The zone the server was asked as an authority for ("." first).
    public var zone: DNSName
    /// The server that was asked (address and port).
    public var server: DNSServer
    /// What it answered, with the time it took.
    public var response: DNSResponse
    /// The zone this answer delegates to, when it is a referral.
    public var referral: DNSName?
}

extension DNSClient {
    /// Resolves `name` iteratively from the root, as `dig +trace` does: asks a root server
    /// without recursion, follows each referral (glue addresses, or a separate trace for a
    /// name server without glue) down to the servers that answer. `roots` are the root
    /// servers to start from; without them, the root NS set is asked of /etc/resolv.conf's
    /// first nameserver (as dig does). Bounded: 30 referrals, depth 4 for glueless servers.
    public func trace(_ name: DNSName, _ type: DNSType, roots: [DNSServer]? = nil, options: DNSQueryOptions = DNSQueryOptions()) throws -> [DNSTraceStep] {
        var o = options
        o.recursionDesired = false
        let rootServers = try roots ?? systemRoots(options)
        guard !rootServers.isEmpty else { throw DNSError(.io, "no root servers to start the trace from") }
        return try trace(name, type, from: rootServers, options: o, depth: 0)
    }

    func systemRoots(_ options: DNSQueryOptions) throws -> [DNSServer] {
        guard let local = ResolvConf.system().nameservers.first else { throw DNSError(.io, "no root servers given and no nameserver in /etc/resolv.conf") }
        let r = try query(.root, .NS, server: local, options: options)
        var out: [DNSServer] = []
        for ns in r.message.answers where ns.type == .NS {
            guard case .name(let n)? = ns.field("target") else { continue }
            for g in r.message.additional where g.name == n && (g.type == .A || g.type == .AAAA) {
                if case .address(let a)? = g.field("address") { out.append(DNSServer(address: a, port: 53)) }
            }
        }
        return out
    }

    func trace(_ name: DNSName, _ type: DNSType, from roots: [DNSServer], options: DNSQueryOptions, depth: Int) throws -> [DNSTraceStep] {
        guard depth <= 4 else { throw DNSError(.servfail, "trace: name servers without glue nested too deeply") }
        var steps: [DNSTraceStep] = []
        var servers = roots
        var zone = DNSName.root
        for _ in 0..<30 {
            var response: DNSResponse? = nil
            var lastError: Error? = nil
            for s in servers {
                do { response = try query(name, type, server: s, options: options); break } catch let e as DNSError where e.kind == .timeout || e.kind == .io || e.kind == .connectionRefused || e.kind == .malformed {
                    lastError = e
                }
            }
            guard let r = response else { throw lastError ?? DNSError(.servfail, "trace: no server for \(zone) answered") }
            let m = r.message
            // A referral: no answer, not authoritative, NS records for a zone closer to the name.
            let nsRecords = m.authority.filter { $0.type == .NS }
            if m.answers.isEmpty, m.rcode == 0, !m.flags.aa, let cut = nsRecords.first?.name,
               name.isSubdomain(of: cut), cut.labelCount > zone.labelCount {
                steps.append(DNSTraceStep(zone: zone, server: r.server, response: r, referral: cut))
                report(.note, "; \(zone) (\(r.server)) refers \(name) to \(cut)")
                var next: [DNSServer] = []
                var glueless: [DNSName] = []
                for ns in nsRecords where ns.name == cut {
                    guard case .name(let host)? = ns.field("target") else { continue }
                    let glue = m.additional.filter { $0.name == host && ($0.type == .A || $0.type == .AAAA) }
                    if glue.isEmpty { glueless.append(host) }
                    for g in glue { if case .address(let a)? = g.field("address") { next.append(DNSServer(address: a, port: r.server.port)) } }
                }
                if next.isEmpty, let host = glueless.first {
                    let sub = try trace(host, .A, from: roots, options: options, depth: depth + 1)
                    for rec in sub.last?.response.message.answers ?? [] where rec.type == .A {
                        if case .address(let a)? = rec.field("address") { next.append(DNSServer(address: a, port: r.server.port)) }
                    }
                }
                guard !next.isEmpty else { throw DNSError(.servfail, "trace: no address for the name servers of \(cut)") }
                servers = next
                zone = cut
                continue
            }
            steps.append(DNSTraceStep(zone: zone, server: r.server, response: r, referral: nil))
            return steps
        }
        throw DNSError(.servfail, "trace: more than 30 referrals for \(name)")
    }
}
