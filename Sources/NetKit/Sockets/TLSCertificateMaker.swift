import Foundation
import Crypto
import SwiftASN1
import X509

/// Makes a lab PKI in one call: a CA, or a certificate for names and addresses signed by one
/// (or by itself), written as PEM files. swift-certificates builds and signs the X.509
/// structures and swift-crypto makes the keys (EC P-256 unless asked otherwise), so a lesson or
/// a test needs no `openssl` command line. What it makes passes `openssl verify`, Python's
/// `ssl` (which is strict: a CA needs keyUsage, a leaf an authorityKeyIdentifier) and NetKit's
/// own clients.
public enum TLSCertificateMaker {
    /// The key algorithm of a new certificate.
    public enum KeyKind: String, Sendable, CaseIterable {
        case p256, p384, ed25519
    }

    /// A certificate and key written to disk.
    public struct Made: Sendable {
        /// Path of the PEM certificate written (`DIR/BASE.pem`, or `BASE.pem` for the current directory).
        public let certFile: String
        /// Path of the PEM private key written (`DIR/BASE.key`, mode 0600).
        public let keyFile: String
        /// True when the certificate is a CA (basicConstraints CA:TRUE, keyUsage keyCertSign).
        public let isCA: Bool
        /// The names asked for, in order: a leaf's subjectAltNames (the first also its CN), a CA's CN.
        public let names: [String]
        /// The end of the validity period: `days` days after `now`.
        public let notValidAfter: Date
        /// The signer's common name (this certificate's own for a self-signed one), or its whole
        /// distinguished name when it has no CN.
        public let issuer: String
        /// SHA-256 of the DER certificate, hex with colons (as `openssl x509 -fingerprint -sha256`).
        public let fingerprint: String
    }

    /// The CA that signs: its certificate and key, as PEM files.
    public struct Signer: Sendable {
        /// Path of the CA's PEM certificate.
        public let certFile: String
        /// Path of the CA's PEM private key (it must match the certificate's public key).
        public let keyFile: String
        /// A signer from the two PEM files; they are read, and checked against each other, by `make`.
        public init(certFile: String, keyFile: String) { self.certFile = certFile; self.keyFile = keyFile }
    }

    /// Makes a certificate and writes `DIR/BASE.pem` and `DIR/BASE.key` (the key readable by the
    /// owner only). `names` are DNS names or IP addresses, each a subjectAltName; the first is
    /// also the subject's CN (a CA's names are only its CN). Without `signer`, the certificate is
    /// self-signed. Errors are `TLSFailure`s in plain words.
    public static func make(names: [String], isCA: Bool, signer: Signer?, days: Int, key kind: KeyKind = .p256,
                            directory: String, baseName: String? = nil, now: Date = Date()) throws -> Made {
        guard !names.isEmpty else { throw TLSFailure("tls.mkcert needs at least one name (\"localhost\", \"127.0.0.1\", …)") }
        guard days >= 1, days <= 36500 else { throw TLSFailure("days: must be between 1 and 36500, not \(days)") }
        for n in names where n.isEmpty || n.contains(where: { $0 == " " || $0 == "/" }) && !isCA {
            throw TLSFailure("\"\(n)\" is not a DNS name or an IP address")
        }
        let newKey: Certificate.PrivateKey
        switch kind {
        case .p256: newKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .p384: newKey = Certificate.PrivateKey(P384.Signing.PrivateKey())
        case .ed25519: newKey = Certificate.PrivateKey(Curve25519.Signing.PrivateKey())
        }
        let subject: DistinguishedName
        do {
            subject = try DistinguishedName {
                OrganizationName("NetScript lab")
                CommonName(names[0])
            }
        } catch { throw TLSFailure("\"\(names[0])\" cannot be a certificate's name") }

        // The issuer: a CA read from its files, or the new certificate itself.
        var issuerName = subject
        var issuerKey = newKey
        var issuerKeyID = SubjectKeyIdentifier(hash: newKey.publicKey).keyIdentifier
        if let signer {
            let caCert: Certificate
            do { caCert = try Certificate(pemEncoded: try readText(signer.certFile, what: "CA certificate")) }
            catch let f as TLSFailure { throw f }
            catch { throw TLSFailure("the CA certificate \(signer.certFile) is not a PEM certificate") }
            do { issuerKey = try Certificate.PrivateKey(pemEncoded: try readText(signer.keyFile, what: "CA key")) }
            catch let f as TLSFailure { throw f }
            catch { throw TLSFailure("the CA key \(signer.keyFile) is not a PEM private key") }
            guard issuerKey.publicKey == caCert.publicKey else {
                throw TLSFailure("the CA key \(signer.keyFile) does not belong to the CA certificate \(signer.certFile)")
            }
            guard let bc = try? caCert.extensions.basicConstraints, case .isCertificateAuthority = bc else {
                throw TLSFailure("\(signer.certFile) is not a CA certificate (no basicConstraints CA:TRUE); make one with tls.mkcert … ca: true")
            }
            issuerName = caCert.subject
            issuerKeyID = (try? caCert.extensions.subjectKeyIdentifier?.keyIdentifier) ?? SubjectKeyIdentifier(hash: caCert.publicKey).keyIdentifier
        }

        var sans: [GeneralName] = []
        if !isCA {
            for n in names {
                if let bytes = TLSIdentity.parseAddress(n.hasPrefix("[") && n.hasSuffix("]") ? String(n.dropFirst().dropLast()) : n) {
                    sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
                } else {
                    sans.append(.dnsName(n))
                }
            }
        }
        let ski = SubjectKeyIdentifier(hash: newKey.publicKey)
        let extensions: Certificate.Extensions
        do {
            if isCA {
                extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    ski
                    if signer != nil { AuthorityKeyIdentifier(keyIdentifier: issuerKeyID) }
                }
            } else if signer == nil {
                // Self-signed: its own trust anchor, so CA:TRUE as `openssl req -x509` makes it
                // (BoringSSL and OpenSSL take a trusted certificate as an anchor only when it is a CA).
                extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(sans)
                    ski
                }
            } else {
                extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(sans)
                    ski
                    AuthorityKeyIdentifier(keyIdentifier: issuerKeyID)
                }
            }
        } catch { throw TLSFailure("the certificate's extensions cannot be built (\(error))") }

        // A minute back, so a peer whose clock is a little behind accepts it at once.
        let notBefore = now.addingTimeInterval(-60)
        let notAfter = now.addingTimeInterval(Double(days) * 86400)
        let cert: Certificate
        do {
            cert = try Certificate(version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: newKey.publicKey,
                                   notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuerName, subject: subject,
                                   extensions: extensions,
                                   issuerPrivateKey: issuerKey)
        } catch { throw TLSFailure("signing the certificate failed (\(error))") }

        let base = baseName ?? defaultBaseName(names[0], isCA: isCA)
        let dir = directory.isEmpty ? "." : directory
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw TLSFailure("the directory \(dir) does not exist")
        }
        let certFile = directory.isEmpty || directory == "." ? base + ".pem" : (dir as NSString).appendingPathComponent(base + ".pem")
        let keyFile = directory.isEmpty || directory == "." ? base + ".key" : (dir as NSString).appendingPathComponent(base + ".key")
        let certPEM: String, keyPEM: String
        do {
            certPEM = try cert.serializeAsPEM().pemString + "\n"
            keyPEM = try newKey.serializeAsPEM().pemString + "\n"
        } catch { throw TLSFailure("the certificate cannot be written as PEM (\(error))") }
        try write(keyPEM, to: keyFile, mode: 0o600)
        try write(certPEM, to: certFile, mode: 0o644)
        var der = DER.Serializer()
        try? der.serialize(cert)
        let digest = SHA256.hash(data: der.serializedBytes)
        let fp = digest.map { String(format: "%02X", $0) }.joined(separator: ":")
        return Made(certFile: certFile, keyFile: keyFile, isCA: isCA, names: names, notValidAfter: notAfter,
                    issuer: TLSPresentedIdentities.commonName(of: issuerName) ?? "\(issuerName)", fingerprint: fp)
    }

    /// "localhost" → "localhost", "127.0.0.1" → "127.0.0.1", "My Lab CA" → "my-lab-ca".
    static func defaultBaseName(_ name: String, isCA: Bool) -> String {
        var s = ""
        for ch in name.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "." || ch == "-" || ch == "_" { s.append(ch) }
            else if !s.hasSuffix("-") { s.append("-") }
        }
        s = s.trimmingCharacters(in: CharacterSet(charactersIn: "-."))
        if s.isEmpty { s = isCA ? "ca" : "cert" }
        if s.hasPrefix("*") { s = "wildcard" + s.dropFirst() }
        return s
    }

    static func readText(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw TLSFailure("cannot read the \(what) file \(path)") }
        guard let s = String(data: data, encoding: .utf8) else { throw TLSFailure("the \(what) file \(path) is not PEM text") }
        return s
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        let tmp = path + ".tmp\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw TLSFailure("cannot write \(path)")
        }
        do {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: tmp, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw TLSFailure("cannot write \(path)")
        }
    }
}
