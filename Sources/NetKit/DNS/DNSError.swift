/// Everything that can go wrong in the DNS codec and client. `kind` is the error kind a
/// script sees (`dns.nxdomain`, `dns.timeout`, …).
public struct DNSError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case nxdomain = "dns.nxdomain", servfail = "dns.servfail", refused = "dns.refused"
        case timeout = "dns.timeout", formerr = "dns.formerr", notimp = "dns.notimp"
        case malformed = "dns.malformed", rcode = "dns.rcode", syntax = "dns.syntax", io = "dns.io"
        case interrupted = "dns.interrupted", transfer = "dns.transfer", tsig = "dns.tsig", tls = "dns.tls"
        case yxdomain = "dns.yxdomain", yxrrset = "dns.yxrrset", nxrrset = "dns.nxrrset", notauth = "dns.notauth", notzone = "dns.notzone"
        /// Nothing listens where the query went (ICMP port unreachable on UDP, RST on TCP): the
        /// socket kind, as `connect` raises it; `dns.refused` is the server's REFUSED answer.
        case connectionRefused = "refused"
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }

    static func malformed(_ why: String) -> DNSError { DNSError(.malformed, "malformed DNS message: \(why)") }
    static func syntax(_ why: String) -> DNSError { DNSError(.syntax, why) }
}
