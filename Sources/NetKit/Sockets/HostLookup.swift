import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension SocketAddress {
    /// `127.0.0.1:7007`, `[::1]:7007`, or the Unix socket path.
    public var text: String {
        switch self {
        case .v4, .v6:
            let ip = ipAddress ?? "?"
            let p = port ?? 0
            return ip.contains(":") ? "[\(ip)]:\(p)" : "\(ip):\(p)"
        case .unixDomainSocket: return pathname ?? "(unix)"
        }
    }
}

/// Name and service look-ups through the C library (`getaddrinfo`, `getnameinfo`,
/// `getservbyname`), as the classic socket API exposes them.
public enum HostLookup {
    /// The machine's host name.
    public static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        return String(cString: buf)
    }

    /// Which addresses `addresses` asks for: either family, IPv4 only, or IPv6 only.
    public enum Family: Sendable { case any, v4, v6 }

    /// All addresses of a name, in the resolver's preferred order, duplicates removed. Names
    /// under `.invalid` fail at once without asking any server (RFC 6761).
    public static func addresses(_ name: String, family: Family = .any) throws -> [String] {
        let lower = name.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        if lower == "invalid" || lower.hasSuffix(".invalid") || name.isEmpty {
            throw SocketError(.resolve, "cannot resolve '\(name)': no such name", address: name)
        }
        var hints = addrinfo()
        hints.ai_family = family == .v4 ? AF_INET : (family == .v6 ? AF_INET6 : AF_UNSPEC)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(name, nil, &hints, &res)
        guard rc == 0, let first = res else {
            let why = String(cString: gai_strerror(rc)).lowercased()
            throw SocketError(.resolve, "cannot resolve '\(name)': \(why)", address: name)
        }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 {
                let s = String(cString: host)
                if !out.contains(s) { out.append(s) }
            }
            p = ai.pointee.ai_next
        }
        if out.isEmpty { throw SocketError(.resolve, "cannot resolve '\(name)': no addresses", address: name) }
        return out
    }

    /// Resolves an endpoint to socket addresses (literal addresses without a look-up), on a
    /// helper thread so the caller can give up at its deadline or on cancellation.
    public static func resolve(_ ep: Endpoint, deadline: Date, cancel: CancelCheck?) throws -> [SocketAddress] {
        if let a = try? SocketAddress(ipAddress: ep.host, port: ep.port) { return [a] }
        let cond = NSCondition()
        var result: Result<[String], Error>? = nil
        let host = ep.host
        Thread.detachNewThread {
            let r = Result { try addresses(host) }
            cond.lock(); result = r; cond.signal(); cond.unlock()
        }
        cond.lock()
        while result == nil {
            if cancel?() == true { cond.unlock(); throw SocketError(.interrupted, "resolve \(host): interrupted", address: host) }
            let now = Date()
            if now >= deadline { cond.unlock(); throw SocketError(.timeout, "resolve \(host): timed out", address: host) }
            _ = cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
        }
        let r = result!
        cond.unlock()
        let names = try r.get()
        return try names.map { try SocketAddress(ipAddress: $0, port: ep.port) }
    }

    /// The name of an address (reverse look-up), its aliases, and the addresses of that name:
    /// `gethostbyaddr_r` (which reports /etc/hosts aliases), then `getnameinfo` as a fallback.
    public static func hostByAddress(_ ip: String) throws -> (name: String, aliases: [String], addresses: [String]) {
        guard let sa = try? SocketAddress(ipAddress: ip, port: 0) else {
            throw SocketError(.value, "gethostbyaddr: '\(ip)' is not an IP address", address: ip)
        }
        var packed = [UInt8](repeating: 0, count: 16)
        let family: Int32 = ip.contains(":") ? AF_INET6 : AF_INET
        guard inet_pton(family, ip, &packed) == 1 else {
            throw SocketError(.value, "gethostbyaddr: '\(ip)' is not an IP address", address: ip)
        }
        var he = hostent()
        var buf = [CChar](repeating: 0, count: 16384)
        var result: UnsafeMutablePointer<hostent>? = nil
        var herr: Int32 = 0
        let len = socklen_t(family == AF_INET ? 4 : 16)
        if gethostbyaddr_r(&packed, len, family, &he, &buf, buf.count, &result, &herr) == 0, let h = result {
            let name = String(cString: h.pointee.h_name)
            var aliases: [String] = []
            if var p = h.pointee.h_aliases {
                while let a = p.pointee { aliases.append(String(cString: a)); p += 1 }
            }
            var addrs: [String] = [ip]
            if var p = h.pointee.h_addr_list {
                while let a = p.pointee {
                    var text = [CChar](repeating: 0, count: 64)
                    if inet_ntop(h.pointee.h_addrtype, a, &text, socklen_t(text.count)) != nil {
                        let t = String(cString: text)
                        if !addrs.contains(t) { addrs.append(t) }
                    }
                    p += 1
                }
            }
            return (name, aliases, addrs)
        }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc: Int32 = sa.withSockAddr { ptr, len in
            getnameinfo(ptr, socklen_t(len), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
        }
        guard rc == 0 else {
            throw SocketError(.resolve, "gethostbyaddr \(ip): no name for this address (\(String(cString: gai_strerror(rc)).lowercased()))", address: ip)
        }
        let name = String(cString: host)
        var addrs = (try? addresses(name)) ?? []
        addrs.removeAll { $0 == ip }
        addrs.insert(ip, at: 0)
        return (name, [], addrs)
    }

    /// The port of a service (`http`/`tcp` → 80), from the services database.
    public static func serviceByName(_ name: String, proto: String = "tcp") -> Int? {
        guard let s = getservbyname(name, proto) else { return nil }
        return Int(UInt16(bigEndian: UInt16(truncatingIfNeeded: s.pointee.s_port)))
    }

    /// The service name of a port (`25`/`tcp` → "smtp").
    public static func serviceByPort(_ port: Int, proto: String = "tcp") -> String? {
        guard (0...65535).contains(port) else { return nil }
        guard let s = getservbyport(Int32(UInt16(port).bigEndian), proto) else { return nil }
        return String(cString: s.pointee.s_name)
    }
}
