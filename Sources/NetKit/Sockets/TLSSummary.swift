import Foundation
import NIOCore
import NIOSSL
import X509

/// One line a learner can read after a TLS handshake: the version agreed, the certificate's
/// subject, issuer and validity, and the name it was checked against.
enum TLSSummary {
    static func version(_ v: TLSVersion?) -> String {
        switch v {
        case .tlsv13?: return "TLS 1.3"
        case .tlsv12?: return "TLS 1.2"
        case .tlsv11?: return "TLS 1.1"
        case .tlsv1?: return "TLS 1.0"
        default: return "TLS"
        }
    }

    static func day(_ t: time_t) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    /// The summary for a channel whose handshake is done; nil when the handler cannot be asked.
    static func describe(_ channel: Channel, setup: TLSClientSetup?) -> String? {
        let f = channel.eventLoop.submit { () -> (TLSVersion?, NIOSSLCertificate?) in
            let ops = channel.pipeline.syncOperations
            let v = (try? ops.nioSSL_tlsVersion()) ?? nil
            let c = (try? ops.nioSSL_peerCertificate()) ?? nil
            return (v, c)
        }
        guard let (v, cert) = try? f.wait() else { return nil }
        var parts = [version(v)]
        if let cert, let der = try? cert.toDERBytes(), let x = try? Certificate(derEncoded: der) {
            parts.append("certificate for \(x.subject)")
            parts.append("issued by \(x.issuer == x.subject ? "itself (self-signed)" : "\(x.issuer)")")
            parts.append("valid \(day(cert.notValidBefore)) to \(day(cert.notValidAfter))")
        }
        if let setup {
            parts.append(setup.options.verify ? "name checked: \(setup.asked) (it matched)" : "NOT verified (verify: false): neither chain nor name checked")
        }
        return "TLS summary: " + parts.joined(separator: "; ")
    }
}
