import Foundation
import NIOCore

/// An endpoint as people write it: `HOST:PORT`, `[v6]:PORT`, or a Unix socket path. The one
/// parser of this syntax in NetKit: sockets, listeners, SMTP, FTP and HTTP connect through
/// `init(parsing:)`, and DNS server addresses (`DNSServer`) split their text with `split`.
///
/// - `host:port`, `name:service` (a service name from /etc/services, `example.test:http`);
/// - `[v6]:port`, with a zone id (`[fe80::1%eth0]:80`);
/// - a bare IPv6 address (`::1`, `fe80::1%eth0`) only without a port: a port after an IPv6
///   address needs the brackets;
/// - a port alone (`:7007`) means all IPv4 addresses (0.0.0.0), for listening.
public struct Endpoint: CustomStringConvertible, Sendable, Equatable {
    /// The host as written: a name, an IPv4 address, or an IPv6 address without brackets (a zone
    /// id such as `%eth0` kept); `0.0.0.0` (all IPv4 addresses) when the text was `:PORT`.
    public var host: String
    /// The TCP/UDP port, 0…65535 (0 asks the system for a free one when listening).
    public var port: Int

    /// An endpoint from parts already split; nothing is checked or looked up.
    public init(host: String, port: Int) { self.host = host; self.port = port }

    /// Parses `host:port`, `[::1]:port`, `host` (with `defaultPort`). Errors are `SocketError`s
    /// of kind `value` that quote the text and say what is wrong.
    public init(parsing text: String, defaultPort: Int? = nil) throws {
        let (h, portText) = try Endpoint.split(text)
        let port: Int
        if let p = portText { port = try Endpoint.port(p, in: text) }
        else if let d = defaultPort {
            guard (0...65535).contains(d) else {
                throw SocketError(.value, "'\(text)': default port \(d) is out of range (0–65535)", address: text)
            }
            port = d
        } else { throw SocketError(.value, "'\(text)': needs a port (HOST:PORT, or [IPv6]:PORT)", address: text) }
        self.host = h.isEmpty ? "0.0.0.0" : h
        self.port = port
    }

    /// Splits `text` into its host (brackets removed) and its port text (nil when none is
    /// written). Checks the syntax only: brackets closed, nothing after them but `:PORT`, a
    /// port not empty when the colon is written, no port after an unbracketed IPv6 address.
    public static func split(_ text: String) throws -> (host: String, port: String?) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { throw SocketError(.value, "an empty address (expected HOST:PORT)", address: text) }
        var host = t, portText: String? = nil
        if !t.hasPrefix("[") && t.contains("]") { throw SocketError(.value, "'\(text)': ']' without '['", address: text) }
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else {
                throw SocketError(.value, "'\(text)': missing ']' after the IPv6 address", address: text)
            }
            host = String(t[t.index(after: t.startIndex)..<close])
            if host.isEmpty { throw SocketError(.value, "'\(text)': nothing between '[' and ']'", address: text) }
            let rest = t[t.index(after: close)...]
            if rest.hasPrefix(":") { portText = String(rest.dropFirst()) }
            else if !rest.isEmpty { throw SocketError(.value, "'\(text)': expected ':PORT' after ']'", address: text) }
        } else if let colon = t.lastIndex(of: ":") {
            if t.firstIndex(of: ":") != colon {
                // Several colons and no brackets: an IPv6 address, which cannot carry a port.
                if t.hasSuffix(":") && !t.hasSuffix("::") {
                    throw SocketError(.value, "'\(text)': an IPv6 address with a port is written [ADDRESS]:PORT", address: text)
                }
                host = t
            } else {
                host = String(t[..<colon]); portText = String(t[t.index(after: colon)...])
            }
        }
        if let p = portText, p.isEmpty {
            throw SocketError(.value, "'\(text)': missing port after ':'", address: text)
        }
        return (host, portText)
    }

    /// A port: decimal digits in 0…65535, or a service name (`http` → 80).
    public static func port(_ p: String, in text: String, proto: String = "tcp") throws -> Int {
        if !p.isEmpty && p.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard p.count <= 5, let n = Int(p), n <= 65535 else {
                throw SocketError(.value, "'\(text)': port \(p) is out of range (0–65535)", address: text)
            }
            return n
        }
        if p.hasPrefix("-"), p.dropFirst().utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), !p.dropFirst().isEmpty {
            throw SocketError(.value, "'\(text)': port \(p) is out of range (0–65535)", address: text)
        }
        if let n = HostLookup.serviceByName(p, proto: proto) { return n }
        throw SocketError(.value, "'\(text)': '\(p)' is not a port number or service name", address: text)
    }

    /// A Unix socket path, when the text names one: `unix:PATH`, or a path starting with
    /// `/`, `./` or `../`. Nil for `HOST:PORT`.
    public static func unixPath(_ text: String) -> String? {
        if text.hasPrefix("unix:") { return String(text.dropFirst(5)) }
        if text.hasPrefix("/") || text.hasPrefix("./") || text.hasPrefix("../") { return text }
        return nil
    }

    /// Where a text points: a Unix socket path or an IP endpoint.
    public enum Target: Equatable, Sendable {
        case unix(String)
        case inet(Endpoint)
    }

    /// Parses a Unix socket path (`unix:PATH`, `/…`, `./…`) or `HOST:PORT`.
    public static func target(_ text: String, defaultPort: Int? = nil) throws -> Target {
        if let path = unixPath(text) {
            if path.isEmpty { throw SocketError(.value, "'\(text)': an empty socket path", address: text) }
            if path.utf8.count > 107 {
                throw SocketError(.value, "'\(text)': a Unix socket path is at most 107 bytes (this one has \(path.utf8.count))", address: text)
            }
            return .unix(path)
        }
        return .inet(try Endpoint(parsing: text, defaultPort: defaultPort))
    }

    /// `host:port`, with an IPv6 host in brackets (`[::1]:80`), so `init(parsing:)` reads it back.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the host is an address literal (no name look-up needed).
    public var isLiteral: Bool { (try? SocketAddress(ipAddress: host, port: port)) != nil }
}
