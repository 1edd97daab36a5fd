import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// An endpoint as people write it: `HOST:PORT` or `[v6]:PORT`. (Unix socket paths are not
/// endpoints: the callers that take them check for a path before parsing one.)
public struct Endpoint: CustomStringConvertible, Sendable, Equatable {
    /// The host as written: a name, an IPv4 address, or an IPv6 address without brackets;
    /// `0.0.0.0` when the text left it empty (`:8080`).
    public var host: String
    /// The port, 0–65535 (a service name such as `smtp` was looked up in /etc/services when parsed).
    public var port: Int

    /// An endpoint from its parts, taken as given (nothing is checked).
    public init(host: String, port: Int) { self.host = host; self.port = port }

    /// Parses `host:port`, `[::1]:port`, `host` (with `defaultPort`). A bare IPv6 address
    /// with a port must be bracketed.
    public init(parsing text: String, defaultPort: Int? = nil) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        var host = t, portText: String? = nil
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else {
                throw SocketError(.value, "'\(text)': missing ']' after the IPv6 address", address: text)
            }
            host = String(t[t.index(after: t.startIndex)..<close])
            let rest = t[t.index(after: close)...]
            if rest.hasPrefix(":") { portText = String(rest.dropFirst()) }
            else if !rest.isEmpty { throw SocketError(.value, "'\(text)': expected ':PORT' after ']'", address: text) }
        } else if let colon = t.lastIndex(of: ":") {
            if t.firstIndex(of: ":") != colon {
                // Several colons and no brackets: an IPv6 address without a port.
                host = t
            } else {
                host = String(t[..<colon]); portText = String(t[t.index(after: colon)...])
            }
        }
        let port: Int
        if let p = portText {
            if let n = Int(p) { port = n }
            else if let n = HostLookup.serviceByName(p, proto: "tcp") { port = n }
            else { throw SocketError(.value, "'\(text)': '\(p)' is not a port number or service name", address: text) }
        } else if let d = defaultPort { port = d }
        else { throw SocketError(.value, "'\(text)': needs a port (HOST:PORT, or [IPv6]:PORT)", address: text) }
        guard (0...65535).contains(port) else {
            throw SocketError(.value, "'\(text)': port \(port) is out of range (0–65535)", address: text)
        }
        if host.isEmpty { host = "0.0.0.0" }
        self.host = host; self.port = port
    }

    /// `host:port`, the host bracketed when it is an IPv6 address (`[::1]:53`).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the host is an address literal (no name look-up needed).
    public var isLiteral: Bool { (try? SocketAddress(ipAddress: host, port: port)) != nil }
}

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
