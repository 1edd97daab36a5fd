/// Everything that can go wrong in the DNS codec and client. `kind` is the error kind a
/// script sees (`dns.nxdomain`, `dns.timeout`, …).
public struct DNSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The error kinds; the raw value is the kind a script catches. The rcode kinds (`nxdomain`
    /// … `notzone`) are raised from a server's answer by `DNSClient.rcodeError` (RFC 1035, RFC 2136);
    /// `timeout` means no answer within the query's timeout and tries; `malformed` an answer
    /// that does not decode; `syntax` bad presentation text (names, records, keys); `io` a local
    /// or transport failure; `interrupted` the caller's cancel check; `transfer` a zone transfer
    /// that broke off or exceeded its limits; `tsig` a missing or bad signature; `tls` a DNS over
    /// TLS handshake or certificate failure; `rcode` any other rcode.
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
    /// What went wrong, as a kind a caller can switch on.
    public var kind: Kind
    /// A sentence for a person, naming the question and server where there is one.
    public var message: String
    /// An error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    /// The message alone.
    public var description: String { message }

    static func malformed(_ why: String) -> DNSError { DNSError(.malformed, "malformed DNS message: \(why)") }
    static func syntax(_ why: String) -> DNSError { DNSError(.syntax, why) }
}
