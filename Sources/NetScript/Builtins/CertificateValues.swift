import Foundation
import NetKit

/// A peer's certificate as a language value (`c.certificate`, `tls.inspect`): the facts
/// `openssl s_client` and `openssl x509 -text` show, as fields.
final class CertificateValue: NativeObject {
    let info: TLSCertificateInfo
    /// The rest of the chain, issuer first (only on the leaf).
    let chain: [TLSCertificateInfo]
    /// For `tls.inspect`: whether verification passed, and why not.
    let verified: Bool?
    let verifyError: String?
    let peer: String?

    init(_ info: TLSCertificateInfo, chain: [TLSCertificateInfo] = [], verified: Bool? = nil, verifyError: String? = nil, peer: String? = nil) {
        self.info = info; self.chain = chain; self.verified = verified; self.verifyError = verifyError; self.peer = peer
    }

    /// The leaf of a connection's peer, with its chain; nil without TLS.
    static func peer(of conn: StreamConnection, verified: Bool? = nil, verifyError: String? = nil) throws -> Value {
        let certs: [TLSCertificateInfo]
        do { certs = try conn.peerCertificates() }
        catch let f as TLSFailure { throw Diagnostic("tls", "certificate of \(conn.peerText): \(f.reason)") }
        catch { throw Diagnostic("tls", "certificate of \(conn.peerText): \(error)") }
        // An accepted connection: the client's certificate, as its handshake saw it.
        guard let leaf = certs.first ?? conn.peerCertificate else { return .nil }
        return .native(CertificateValue(leaf, chain: Array(certs.dropFirst()), verified: verified, verifyError: verifyError, peer: conn.peerText))
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    override var typeName: String { "certificate" }
    override var fieldNames: [String] {
        var f = ["subject", "common_name", "issuer", "sans", "dns_names", "ip_addresses", "not_before", "not_after", "days_left",
                 "serial", "sha256", "self_signed", "chain"]
        if verified != nil { f += ["verified", "verify_error", "peer"] }
        return f
    }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "subject": return .string(info.subject)
        case "common_name": return info.commonName.map { .string($0) } ?? .nil
        case "issuer": return .string(info.issuer)
        case "sans": return .list(info.dnsNames.map { .string("DNS:" + $0) } + info.ipAddresses.map { .string("IP:" + $0) })
        case "dns_names": return .list(info.dnsNames.map { .string($0) })
        case "ip_addresses": return .list(info.ipAddresses.map { .string($0) })
        case "not_before": return .string(CertificateValue.iso(info.notBefore))
        case "not_after": return .string(CertificateValue.iso(info.notAfter))
        case "days_left": return .int(info.daysLeft())
        case "serial": return .string(info.serial)
        case "sha256": return .string(info.sha256)
        case "self_signed": return .bool(info.selfIssued)
        case "chain": return .list(chain.map { .native(CertificateValue($0)) })
        case "verified": return verified.map { .bool($0) }
        case "verify_error": return verified == nil ? nil : verifyError.map { .string($0) } ?? .nil
        case "peer": return verified == nil ? nil : peer.map { .string($0) } ?? .nil
        default: return nil
        }
    }
    override var description: String {
        let names = (info.dnsNames + info.ipAddresses).joined(separator: ", ")
        var s = "<certificate \(info.subject) issuer \(info.issuer) [\(names)] until \(CertificateValue.iso(info.notAfter)) (\(info.daysLeft()) days)"
        if let verified { s += verified ? " verified" : " NOT verified: \(verifyError ?? "")" }
        return s + ">"
    }
}
