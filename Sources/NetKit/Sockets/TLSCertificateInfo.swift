import Foundation
import X509
import Crypto
import NIOCore
import NIOSSL

/// The facts of one X.509 certificate, read from its DER bytes: what `openssl x509 -text`
/// and `openssl s_client` show a sysadmin (subject, issuer, names, validity, serial,
/// fingerprint). A plain value: a client's view of a server's chain, or a server's of a
/// client's certificate.
public struct TLSCertificateInfo: Sendable, Equatable {
    /// RFC 4514 text, most specific part first as OpenSSL prints it: "CN=example.test,O=Example".
    public var subject: String
    /// RFC 4514 text of the issuer's name, as `subject` (equal to it for a self-issued certificate).
    public var issuer: String
    /// subjectAltName entries: DNS names as written, IP addresses as text.
    public var dnsNames: [String]
    /// subjectAltName IP address entries as text (`127.0.0.1`, `::1`); empty when there are none.
    public var ipAddresses: [String]
    /// The start of the validity period (the certificate is not valid before it).
    public var notBefore: Date
    /// The end of the validity period (the certificate has expired after it).
    public var notAfter: Date
    /// The serial number in upper-case hex, two digits a byte, colon-separated.
    public var serial: String
    /// SHA-256 of the DER bytes, upper-case hex, colon-separated (as `openssl x509 -fingerprint -sha256`).
    public var sha256: String
    /// The subject's common name, if it has one (shown, never used for identity: RFC 9525).
    public var commonName: String?
    /// Whether subject and issuer are the same name (a root or a self-signed certificate).
    public var selfIssued: Bool
    /// The certificate as DER bytes, exactly as read.
    public var der: [UInt8]

    /// Reads a DER certificate; throws `TLSFailure` when it is not one.
    public init(der: [UInt8]) throws {
        let cert: Certificate
        do { cert = try Certificate(derEncoded: der) }
        catch { throw TLSFailure("not a readable X.509 certificate (\(der.count) bytes)") }
        self.der = der
        subject = cert.subject.description
        issuer = cert.issuer.description
        selfIssued = cert.subject == cert.issuer
        notBefore = cert.notValidBefore
        notAfter = cert.notValidAfter
        serial = cert.serialNumber.bytes.map { String(format: "%02X", $0) }.joined(separator: ":")
        sha256 = SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
        var dns: [String] = [], ips: [String] = []
        if let sans = try? cert.extensions.subjectAlternativeNames {
            for name in sans {
                switch name {
                case .dnsName(let n): dns.append(n)
                case .ipAddress(let octets): ips.append(TLSIdentity.addressText(Array(octets.bytes)))
                default: continue
                }
            }
        }
        dnsNames = dns
        ipAddresses = ips
        commonName = (try? TLSPresentedIdentities(der: der))?.commonName
    }

    /// Whole days until `notAfter` from `now` (negative once expired).
    public func daysLeft(at now: Date = Date()) -> Int {
        Int((notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
    }
}

extension StreamConnection {
    /// The peer's certificates, leaf first: with verification on, the chain it was verified
    /// by (up to the trusted root); with `verify: false`, the leaf alone. Empty for a
    /// connection without TLS or a peer that presented none.
    /// The leaf is the one the handshake saw, kept then: so it is there after the peer has
    /// closed (the TLS handler leaves the pipeline with the channel).
    public func peerCertificates() throws -> [TLSCertificateInfo] {
        guard proto == "tls" else { return [] }
        box.cond.lock(); var leaf = box.peerCertificate; box.cond.unlock()
        if leaf == nil, let channel,
           let cert = try? channel.pipeline.handler(type: NIOSSLHandler.self).map({ $0.peerCertificate }).wait() {
            leaf = try cert.toDERBytes()
        }
        guard let leaf else { return [] }
        var chain = [leaf]
        for cert in (tlsObserver?.verifiedChain ?? []).reversed() {
            let der = try cert.toDERBytes()
            if der != leaf { chain.append(der) }
        }
        return try chain.map { try TLSCertificateInfo(der: $0) }
    }
}
