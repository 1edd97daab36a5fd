import Foundation
import NIOCore
import NIOSSL
import NIOTLS
import X509
import Crypto
import SwiftASN1
#if canImport(Glibc)
import Glibc
#endif

/// TLS settings for a client connection: verification is on unless `verify` is false.
public struct TLSOptions: Sendable {
    /// Whether the server's chain is verified (against `caFile` or the system's CAs) and its
    /// certificate checked for the name asked (RFC 9525). false accepts any certificate: for a lab
    /// server with a self-signed one, never for a server you need to trust.
    public var verify: Bool
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// The name (or address) the certificate must be for, sent as SNI when it is a name;
    /// defaults to the host connected to. As Python's `server_hostname` and as curl with
    /// `--connect-to`: the name asked is both the one sent and the one checked.
    public var serverName: String?
    /// Application protocols offered by ALPN ("h2", "http/1.1"), in order of preference.
    public var alpn: [String] = []
    /// A client certificate and its key (PEM files), for servers that ask for one (mutual TLS).
    public var certFile: String? = nil
    /// The PEM private key of `certFile`; both or neither must be given.
    public var keyFile: String? = nil
    /// Options with verification on and the system's CAs unless told otherwise; see each property.
    /// Nothing is read here: the files are read, and their errors thrown, when a connection is set up.
    public init(verify: Bool = true, caFile: String? = nil, serverName: String? = nil, alpn: [String] = [],
                certFile: String? = nil, keyFile: String? = nil) {
        self.verify = verify; self.caFile = caFile; self.serverName = serverName; self.alpn = alpn
        self.certFile = certFile; self.keyFile = keyFile
    }
}

/// What a TLS client asked for (RFC 9525 §6.1, the reference identity): a DNS name, or an IP
/// address when the host given was an address literal (`127.0.0.1`, `::1`, `[::1]`).
public enum TLSIdentity: Hashable, Sendable, CustomStringConvertible {
    /// Lower-case ASCII, without a trailing dot.
    case name(String)
    /// 4 or 16 bytes.
    case address([UInt8])

    /// The identity for a host as the user gave it.
    public init(asked host: String) {
        var h = host
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        let noZone = h.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? h
        if let bytes = TLSIdentity.parseAddress(noZone) { self = .address(bytes); return }
        var n = TLSIdentity.asciiLowercased(h)
        if n.hasSuffix(".") { n.removeLast() }
        self = .name(n)
    }

    static func parseAddress(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func asciiLowercased(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    static func addressText(_ bytes: [UInt8]) -> String {
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard bytes.count == 4 || bytes.count == 16 else { return bytes.map { String($0, radix: 16) }.joined(separator: ":") }
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buf, socklen_t(buf.count)) }
        return String(cString: buf)
    }

    /// The name as asked (lower-case, no trailing dot), or the address as text (`127.0.0.1`, `::1`).
    public var description: String {
        switch self {
        case .name(let n): return n
        case .address(let b): return TLSIdentity.addressText(b)
        }
    }

    /// The name to send in the server_name extension: never an address (RFC 6066 §3).
    public var sniName: String? {
        if case .name(let n) = self, !n.isEmpty { return n }
        return nil
    }

    /// Whether a certificate presenting these identifiers is for this identity (RFC 9525 §6.3,
    /// §6.4): a name matches only DNS-ID subjectAltNames, an address only iPAddress ones; the
    /// subject's CN is never used.
    public func isMatched(by presented: TLSPresentedIdentities) -> Bool {
        switch self {
        case .name(let n): return presented.dnsNames.contains { TLSIdentity.dnsName($0, matches: n) }
        case .address(let b): return presented.ipAddresses.contains(b)
        }
    }

    /// RFC 9525 §6.3: equal ignoring ASCII case and a trailing dot; a `*` only as the whole
    /// left-most label, standing for exactly one non-empty label, with at least two labels after
    /// it (`*.example.test` matches `a.example.test`, not `example.test` nor `a.b.example.test`).
    public static func dnsName(_ presented: String, matches asked: String) -> Bool {
        var p = asciiLowercased(presented)
        if p.hasSuffix(".") { p.removeLast() }
        var a = asciiLowercased(asked)
        if a.hasSuffix(".") { a.removeLast() }
        guard !p.isEmpty, !a.isEmpty, !a.contains("*") else { return false }
        if !p.contains("*") { return p == a }
        let pl = p.split(separator: ".", omittingEmptySubsequences: false)
        let al = a.split(separator: ".", omittingEmptySubsequences: false)
        guard pl.count >= 3, pl[0] == "*", !pl.dropFirst().contains(where: { $0.isEmpty || $0.contains("*") }) else { return false }
        guard al.count == pl.count, !al[0].isEmpty else { return false }
        return al.dropFirst().elementsEqual(pl.dropFirst())
    }
}

/// The identities a certificate presents: its subjectAltName DNS names and IP addresses (and
/// the subject's CN, kept only to say in a message that it is not used).
public struct TLSPresentedIdentities: Sendable, CustomStringConvertible {
    /// subjectAltName DNS names as written in the certificate (possibly wildcards, `*.example.test`).
    public var dnsNames: [String] = []
    /// subjectAltName IP addresses as bytes: 4 for IPv4, 16 for IPv6.
    public var ipAddresses: [[UInt8]] = []
    /// The subject's common name; shown in messages only, never matched (RFC 9525 §6.2.1).
    public var commonName: String? = nil

    /// Identities given directly (for tests and for messages); nothing is checked.
    public init(dnsNames: [String] = [], ipAddresses: [[UInt8]] = [], commonName: String? = nil) {
        self.dnsNames = dnsNames; self.ipAddresses = ipAddresses; self.commonName = commonName
    }

    /// Reads a DER certificate's subjectAltName extension.
    public init(der: [UInt8]) throws {
        let cert = try Certificate(derEncoded: der)
        if let sans = try cert.extensions.subjectAlternativeNames {
            for name in sans {
                switch name {
                case .dnsName(let n): dnsNames.append(n)
                case .ipAddress(let octets): ipAddresses.append(Array(octets.bytes))
                default: continue
                }
            }
        }
        commonName = TLSPresentedIdentities.commonName(of: cert.subject)
    }

    static func commonName(of dn: DistinguishedName) -> String? {
        for rdn in dn {
            for attr in rdn where attr.type == .RDNAttributeType.commonName { return "\(attr.value)" }
        }
        return nil
    }

    /// "IP 127.0.0.1 (DNS names: none)", "other.test, *.example.test", …: what the
    /// certificate is for, as a message says it to someone who asked for `asked`.
    public func describe(for asked: TLSIdentity) -> String {
        let ips = ipAddresses.map { "IP " + TLSIdentity.addressText($0) }
        if dnsNames.isEmpty && ipAddresses.isEmpty { return "nothing (no subjectAltName)" }
        switch asked {
        case .name:
            if dnsNames.isEmpty { return "\(ips.joined(separator: ", ")) (DNS names: none)" }
            return (dnsNames + ips).joined(separator: ", ")
        case .address:
            if ipAddresses.isEmpty { return "\(dnsNames.joined(separator: ", ")) (IP addresses: none)" }
            return (ips + dnsNames).joined(separator: ", ")
        }
    }

    /// The DNS names, then the addresses as `IP 127.0.0.1`, comma-separated; empty when there are none.
    public var description: String { (dnsNames + ipAddresses.map { "IP " + TLSIdentity.addressText($0) }).joined(separator: ", ") }
}

/// A TLS failure already in plain words (the certificate is for another name, expired, …).
public struct TLSFailure: Error, CustomStringConvertible, Sendable {
    /// The failure as a sentence for a person (`the certificate is for other.test, not example.test`).
    public let reason: String
    /// A failure with its message already in plain words.
    public init(_ reason: String) { self.reason = reason }
    /// `reason`, as it is.
    public var description: String { reason }
}

/// Notes the first certificate BoringSSL's chain verification refused, so a failure can say
/// why (expired, self-signed, unknown CA). It passes BoringSSL's verdict through unchanged.
final class TLSVerifyObserver: @unchecked Sendable {
    private let lock = NSLock()
    private var refused: NIOSSLCertificate?
    /// Every certificate verification looked at, in its order (root first, leaf last):
    /// the chain `c.certificate.chain` shows.
    private var seen: [NIOSSLCertificate] = []
    func note(_ result: NIOSSLVerificationResult, _ cert: NIOSSLCertificate) -> NIOSSLVerificationResult {
        lock.lock()
        if result == .failed, refused == nil { refused = cert }
        if !seen.contains(cert) { seen.append(cert) }
        lock.unlock()
        return result
    }
    var verifiedChain: [NIOSSLCertificate] { lock.lock(); defer { lock.unlock() }; return seen }
    var refusedCertificate: NIOSSLCertificate? { lock.lock(); defer { lock.unlock() }; return refused }
}

/// The one client TLS configuration builder every client uses (sockets `connect tls:`, SMTP
/// implicit TLS and STARTTLS, FTPS control and data connections, DNS over TLS, HTTPS through
/// AsyncHTTPClient). BoringSSL verifies the chain against `ca:` or the system's CAs; the
/// identity is checked here, after the handshake and before a byte of application data
/// flows, by RFC 9525 (`TLSIdentity.isMatched(by:)`) rather than NIOSSL's own check, which
/// also takes an IP subjectAltName equal to the connected address for any name asked.
/// `verify: false` skips both.
public struct TLSClientSetup: @unchecked Sendable {
    /// The options this set-up was made from.
    public let options: TLSOptions
    /// The name or address asked: `options.serverName` when given, else the host connected to.
    public let asked: TLSIdentity
    /// Where the certificate came from, for messages: "localhost:4443".
    public let shownPeer: String
    /// Chain verification only: the identity is checked by `check(peer:)`.
    public let configuration: TLSConfiguration

    /// `host` is the host part of the address the user gave (not the resolved address).
    public init(_ options: TLSOptions, host: String, shownPeer: String) throws {
        self.options = options
        self.asked = TLSIdentity(asked: options.serverName ?? host)
        self.shownPeer = shownPeer
        var cfg = TLSConfiguration.makeClientConfiguration()
        cfg.certificateVerification = options.verify ? .noHostnameVerification : .none
        if let ca = options.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else {
                throw TLSFailure("cannot read the CA file \(ca)")
            }
            cfg.trustRoots = .file(ca)
        }
        cfg.applicationProtocols = options.alpn
        if options.certFile != nil || options.keyFile != nil {
            let own = try TLSServerSetup.loadIdentity(cert: options.certFile, key: options.keyFile, role: "client")
            cfg.certificateChain = own.chain
            cfg.privateKey = own.key
        }
        self.configuration = cfg
    }

    /// The SNI to send: the name asked, never an address.
    public var sniName: String? { asked.sniName }

    /// A new NIOSSL context for `configuration`, made on every call (connections share contexts
    /// through `TLSClientSetup.context(for:)`, which caches them by trust, ALPN and certificate).
    /// Throws `TLSFailure`: the client certificate and key do not belong together or the key cannot
    /// be read, the CA file is unusable, or another set-up error, in plain words.
    public func makeContext() throws -> NIOSSLContext {
        do { return try NIOSSLContext(configuration: configuration) }
        catch {
            if let c = options.certFile, let k = options.keyFile,
               "\(error)".contains("KEY_VALUES_MISMATCH") || (error as? NIOSSLError).map({ if case .failedToLoadPrivateKey = $0 { return true } else { return false } }) == true {
                throw TLSFailure(TLSServerSetup.identityProblem(error, cert: c, key: k))
            }
            throw TLSFailure(caFileProblem(error) ?? "TLS set-up failed: \(TLSClientSetup.reason(error, setup: self, observer: nil))") }
    }

    private func caFileProblem(_ error: Error) -> String? {
        guard let ca = options.caFile else { return nil }
        return "the CA file \(ca) holds no usable PEM certificate"
    }

    /// The handlers to put in front of a client pipeline, in order: TLS, then the identity check
    /// (absent with `verify: false`). The observer explains a chain failure.
    func makeHandlers(context: NIOSSLContext) throws -> (handlers: [ChannelHandler], observer: TLSVerifyObserver?) {
        guard options.verify else {
            return ([try NIOSSLClientHandler(context: context, serverHostname: sniName)], nil)
        }
        let observer = TLSVerifyObserver()
        let ssl = try TLSClientSetup.clientHandler(context: context, serverHostname: sniName, observer: observer)
        return ([ssl, TLSIdentityCheckHandler(self)], observer)
    }

    /// NIOSSL's per-certificate callback (deprecated there, called through a protocol so the
    /// build stays quiet) is the only way to learn which certificate failed and so why; it
    /// returns BoringSSL's verdict unchanged.
    private static func clientHandler(context: NIOSSLContext, serverHostname: String?, observer: TLSVerifyObserver) throws -> NIOSSLClientHandler {
        try (ObservingHandler.self as ObservingHandlerMaker.Type).make(context: context, serverHostname: serverHostname, observer: observer)
    }

    /// The RFC 9525 identity check on the leaf certificate. Throws `TLSFailure` in plain words.
    public func check(peer: NIOSSLCertificate?) throws {
        guard options.verify else { return }
        guard let peer else { throw TLSFailure("\(shownPeer) presented no certificate") }
        let presented: TLSPresentedIdentities
        do { presented = try TLSPresentedIdentities(der: peer.toDERBytes()) }
        catch { throw TLSFailure("the certificate of \(shownPeer) cannot be read (malformed subjectAltName)") }
        guard asked.isMatched(by: presented) else {
            let what: String
            switch asked {
            case .name(let n): what = "\"\(n)\""
            case .address: what = "IP \(asked)"
            }
            if presented.dnsNames.isEmpty && presented.ipAddresses.isEmpty {
                let cn = presented.commonName.map { "; its subject CN \"\($0)\" is not used, RFC 9525" } ?? ""
                throw TLSFailure("the certificate of \(shownPeer) has no DNS name or IP address in subjectAltName\(cn), so it is not for \(what)")
            }
            throw TLSFailure("the certificate of \(shownPeer) is for \(presented.describe(for: asked)), not for \(what)")
        }
    }

    /// The identity check on a connection AsyncHTTPClient made (its connection debug
    /// initializers run after the handshake and before the connection carries a request).
    public func check(channel: Channel) -> EventLoopFuture<Void> {
        guard options.verify else { return channel.eventLoop.makeSucceededVoidFuture() }
        return channel.nioSSL_peerCertificate().flatMapThrowing { cert in try self.check(peer: cert) }
    }

    /// Why the chain is refused, learnt from a handshake of our own with the same settings (for
    /// AsyncHTTPClient, whose failure says only "verify failed"); nil if that one succeeds.
    func explainRefusedChain(at address: String, timeout: TimeInterval) -> String? {
        do {
            let c = try StreamConnection.connect(address, timeout: timeout, tls: options)
            c.abandon()
            return nil
        } catch let e as SocketError where e.kind == .tls {
            let marker = "TLS handshake failed: "
            guard let r = e.message.range(of: marker) else { return nil }
            return String(e.message[r.upperBound...])
        } catch {
            return nil
        }
    }

    // MARK: failures in plain words

    /// A TLS failure as a learner reads it: no Swift type names.
    static func reason(_ error: Error, setup: TLSClientSetup?, observer: TLSVerifyObserver?) -> String {
        if let f = error as? TLSFailure { return f.reason }
        if let e = error as? NIOSSLError {
            switch e {
            case .handshakeFailed(let b), .shutdownFailed(let b): return boringReason(b, setup: setup, observer: observer)
            case .uncleanShutdown: return "the peer closed the connection in the middle of the TLS session"
            case .noCertificateToValidate: return "the server presented no certificate"
            case .failedToLoadCertificate: return "a certificate file cannot be loaded"
            case .noSuchFilesystemObject: return "a certificate or CA file does not exist"
            default: return words("\(e)")
            }
        }
        if let e = error as? NIOSSLExtraError {
            if e == .invalidSNIHostname || e == .cannotUseIPAddressInSNI {
                return "\"\(setup?.asked.description ?? "?")\" cannot be sent as a TLS server name"
            }
            if e == .failedToValidateHostname, let s = setup { return "the certificate of \(s.shownPeer) is not for \(s.asked)" }
            return words(String("\(e)".split(separator: ":").first ?? ""))
        }
        if let e = error as? BoringSSLError { return boringReason(e, setup: setup, observer: observer) }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let c = error as? ChannelError {
            switch c {
            case .eof, .inputClosed, .ioOnClosedChannel, .alreadyClosed: return "the peer closed the connection during the TLS handshake"
            default: return words("\(c)")
            }
        }
        return words("\(error)")
    }

    private static func boringReason(_ b: BoringSSLError, setup: TLSClientSetup?, observer: TLSVerifyObserver?) -> String {
        let text = "\(b)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return chainReason(setup: setup, observer: observer)
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("HTTP_REQUEST")
            || text.contains("UNEXPECTED_RECORD") {
            return "the server did not answer in TLS"
        }
        if let why = boringSSLReason(text, peer: "server") { return why }
        return "the TLS handshake failed"
    }

    /// BoringSSL's first reason code in an error's text, in words:
    /// "error:10000410:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE at …" → "the
    /// `peer` refused the handshake (TLS alert: handshake failure)"; another code → "handshake
    /// failed (…)"; nil when the text carries none. Both ends' reasons read so.
    static func boringSSLReason(_ text: String, peer: String) -> String? {
        let codes = text.components(separatedBy: "OPENSSL_internal:").dropFirst().compactMap {
            $0.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "]" }).first.map(String.init)
        }
        guard let code = codes.first else { return nil }
        let w = code.lowercased().replacingOccurrences(of: "_", with: " ")
        for prefix in ["sslv3 alert ", "tlsv1 alert "] where w.hasPrefix(prefix) {
            return "the \(peer) refused the handshake (TLS alert: \(w.dropFirst(prefix.count)))"
        }
        return "handshake failed (\(w))"
    }

    /// Why the chain was refused, from the certificate BoringSSL refused.
    static func chainReason(setup: TLSClientSetup?, observer: TLSVerifyObserver?) -> String {
        let whose = setup.map { "the certificate of \($0.shownPeer)" } ?? "the server's certificate"
        let ca = setup?.options.caFile
        let trusted = ca.map { "ca: \($0)" } ?? "the system's CAs"
        let hint = ca == nil ? "; ca: FILE trusts a private CA, verify: false skips the check" : ""
        guard let refused = observer?.refusedCertificate, let der = try? refused.toDERBytes(),
              let cert = try? Certificate(derEncoded: der) else {
            return "\(whose) is not trusted (checked against \(trusted)\(hint))"
        }
        let now = Date()
        let name = TLSPresentedIdentities.commonName(of: cert.subject).map { "\"\($0)\"" } ?? "\(cert.subject)"
        if cert.notValidAfter < now { return "\(whose) expired on \(day(cert.notValidAfter)) (\(name))" }
        if cert.notValidBefore > now { return "\(whose) is not valid before \(day(cert.notValidBefore)) (\(name))" }
        if cert.issuer == cert.subject {
            return "\(whose) is self-signed (\(name)) and not among \(trusted)\(hint)"
        }
        let issuer = TLSPresentedIdentities.commonName(of: cert.issuer).map { "\"\($0)\"" } ?? "\(cert.issuer)"
        return "\(whose) is not signed by a trusted CA (its issuer \(issuer) is not among \(trusted)\(hint))"
    }

    static func day(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: d)
    }

    /// "readInInvalidTLSState" → "read in invalid TLS state": an enum case read aloud.
    static func words(_ s: String) -> String {
        let base = s.split(separator: "(").first.map(String.init) ?? s
        guard !base.contains(" ") else { return s }
        var out = ""
        var prevLower = false
        for ch in base.replacingOccurrences(of: "_", with: " ") {
            if ch.isUppercase && prevLower { out.append(" ") }
            out.append(ch)
            prevLower = ch.isLowercase || ch.isNumber
        }
        return out.split(separator: " ").map { w in w.count > 1 && w.allSatisfy({ $0.isUppercase }) ? String(w) : w.lowercased() }.joined(separator: " ")
    }
}

private protocol ObservingHandlerMaker {
    static func make(context: NIOSSLContext, serverHostname: String?, observer: TLSVerifyObserver) throws -> NIOSSLClientHandler
}
private enum ObservingHandler: ObservingHandlerMaker {
    @available(*, deprecated)
    static func make(context: NIOSSLContext, serverHostname: String?, observer: TLSVerifyObserver) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: serverHostname, verificationCallback: { observer.note($0, $1) })
    }
}

/// Checks the server's identity once the handshake is done, before the event that lets the
/// connection be used goes on: a mismatch becomes an error and the connection is closed, and
/// nothing the server sent reaches the reader.
final class TLSIdentityCheckHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let setup: TLSClientSetup
    private var failed = false
    init(_ setup: TLSClientSetup) { self.setup = setup }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted? = event as? TLSUserEvent {
            do {
                let ssl = try context.pipeline.syncOperations.handler(type: NIOSSLHandler.self)
                try setup.check(peer: ssl.peerCertificate)
            } catch {
                failed = true
                context.fireErrorCaught(error)
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if failed { return }
        context.fireChannelRead(data)
    }
}


/// Client TLS contexts, made once per set of trust settings: making one loads the CA file
/// (or the system's CAs) and costs more than a handshake, and a context serves any number
/// of connections at once. A CA file that changes on disk gets a fresh context.
enum TLSContextCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var contexts: [String: NIOSSLContext] = [:]

    static func context(for setup: TLSClientSetup) throws -> NIOSSLContext {
        // Everything the context is made from: trust, the protocols offered by ALPN and the
        // client's own certificate (files by name, time and size). SNI is per connection.
        func stamp(_ path: String?) -> String {
            guard let path else { return "-" }
            let attrs = try? FileManager.default.attributesOfItem(atPath: path)
            let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(path)|\(mtime)|\(attrs?[.size] as? Int ?? -1)"
        }
        let o = setup.options
        let key = [String(o.verify), stamp(o.caFile), o.alpn.joined(separator: ","), stamp(o.certFile), stamp(o.keyFile)]
            .joined(separator: "\u{0}")
        lock.lock()
        if let c = contexts[key] { lock.unlock(); return c }
        lock.unlock()
        let made = try setup.makeContext()
        lock.lock()
        if contexts.count > 64 { contexts.removeAll() }
        contexts[key] = made
        lock.unlock()
        return made
    }
}

// MARK: - the server side

/// TLS settings for a server: its certificate chain and key (PEM files), the CAs that sign the
/// client certificates it asks for (mutual TLS), and the protocols it accepts by ALPN.
public struct TLSServerOptions: Sendable {
    /// The PEM file of the server's certificate, optionally followed by its intermediates.
    public var certFile: String
    /// The PEM private key of `certFile` (they must belong together).
    public var keyFile: String
    /// Asks every client for a certificate and verifies it against these CAs (a PEM file); a
    /// client without one, or with one they did not sign, fails the handshake.
    public var clientCAFile: String?
    /// Protocols accepted by ALPN, in order of preference; empty: ALPN is not used. A client that
    /// offers only others gets no protocol (the connection's `negotiatedProtocol` is nil), as
    /// BoringSSL does it, rather than the alert RFC 7301 §3.2 suggests.
    public var alpn: [String]
    /// How long a client may take over the handshake before it is dropped.
    public var handshakeTimeout: TimeInterval
    /// Options for a server; nothing is read until `TLSServerSetup(_:)`. `handshakeTimeout` is in
    /// seconds.
    public init(certFile: String, keyFile: String, clientCAFile: String? = nil, alpn: [String] = [], handshakeTimeout: TimeInterval = 10) {
        self.certFile = certFile; self.keyFile = keyFile; self.clientCAFile = clientCAFile; self.alpn = alpn
        self.handshakeTimeout = handshakeTimeout
    }
}

/// The server TLS configuration builder, beside the client's: every server (`listen tls:`,
/// `serve tcp`/`serve echo`/`serve http` with TLS, a STARTTLS step on an accepted connection)
/// gets its context here, and its failures in the same plain words.
public struct TLSServerSetup: @unchecked Sendable {
    /// The options this set-up was made from.
    public let options: TLSServerOptions
    /// The server context every accepted connection's TLS handler is made from.
    public let context: NIOSSLContext

    /// Reads the certificate, key and client CA files and builds the context. Throws `TLSFailure`
    /// when a file cannot be read or holds no PEM certificate or key, the key does not belong to the
    /// certificate, or the client CA file has no usable certificate.
    public init(_ options: TLSServerOptions) throws {
        self.options = options
        let own = try TLSServerSetup.loadIdentity(cert: options.certFile, key: options.keyFile, role: "server")
        var cfg = TLSConfiguration.makeServerConfiguration(certificateChain: own.chain, privateKey: own.key)
        if let ca = options.clientCAFile {
            guard FileManager.default.isReadableFile(atPath: ca) else { throw TLSFailure("cannot read the client CA file \(ca)") }
            guard let roots = try? NIOSSLCertificate.fromPEMFile(ca), !roots.isEmpty else {
                throw TLSFailure("the client CA file \(ca) holds no usable PEM certificate")
            }
            cfg.trustRoots = .certificates(roots)
            cfg.additionalTrustRoots = []
            // A client certificate is for a person or a machine, not for the name we are: the
            // chain is checked, no identity.
            cfg.certificateVerification = .noHostnameVerification
            cfg.sendCANameList = true
        }
        cfg.applicationProtocols = options.alpn
        do { self.context = try NIOSSLContext(configuration: cfg) }
        catch { throw TLSFailure(TLSServerSetup.identityProblem(error, cert: options.certFile, key: options.keyFile)) }
    }

    /// A certificate chain and its private key from PEM files, checked to belong together.
    static func loadIdentity(cert: String?, key: String?, role: String) throws -> (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource) {
        guard let cert, let key else { throw TLSFailure("a \(role) certificate needs both cert: and key: (PEM files)") }
        guard FileManager.default.isReadableFile(atPath: cert) else { throw TLSFailure("cannot read the certificate file \(cert)") }
        guard FileManager.default.isReadableFile(atPath: key) else { throw TLSFailure("cannot read the key file \(key)") }
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(cert) } catch { chain = [] }
        guard !chain.isEmpty else { throw TLSFailure("the certificate file \(cert) holds no PEM certificate") }
        let pkey: NIOSSLPrivateKey
        do { pkey = try NIOSSLPrivateKey(file: key, format: .pem) }
        catch { throw TLSFailure("the key file \(key) holds no PEM private key") }
        return (chain.map { .certificate($0) }, .privateKey(pkey))
    }

    /// Why a context cannot be made from a certificate and key (BoringSSL checks they belong together).
    static func identityProblem(_ error: Error, cert: String, key: String) -> String {
        // The key was read already (loadIdentity): failing to use it now means it is another certificate's.
        if case .failedToLoadPrivateKey? = error as? NIOSSLError { return "the key \(key) does not belong to the certificate \(cert)" }
        if "\(error)".contains("KEY_VALUES_MISMATCH") { return "the key \(key) does not belong to the certificate \(cert)" }
        return "the certificate \(cert) and key \(key) cannot be used (\(TLSClientSetup.reason(error, setup: nil, observer: nil)))"
    }

    /// The TLS handler for one accepted connection.
    public func makeHandler() -> NIOSSLServerHandler { NIOSSLServerHandler(context: context) }

    /// A server-side TLS failure as a learner reads it: what the client did, in plain words.
    public static func reason(_ error: Error) -> String {
        if let f = error as? TLSFailure { return f.reason }
        var text = "\(error)"
        if let e = error as? NIOSSLError, case .handshakeFailed(let b) = e { text = "\(b)" }
        if text.contains("NO_APPLICATION_PROTOCOL") { return "the client offers none of the protocols accepted by alpn:" }
        if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") { return "the client sent no certificate (client_ca: asks for one)" }
        if text.contains("CERTIFICATE_VERIFY_FAILED") { return "the client's certificate is not signed by the client_ca: CAs" }
        if text.contains("HTTP_REQUEST") || text.contains("WRONG_VERSION_NUMBER") || text.contains("UNKNOWN_PROTOCOL")
            || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("UNEXPECTED_RECORD") {
            return "the client did not speak TLS"
        }
        if text.contains("NO_SHARED_CIPHER") || text.contains("NO_SUPPORTED_VERSIONS") || text.contains("UNSUPPORTED_PROTOCOL") {
            return "the client and this server share no TLS version or cipher"
        }
        if let why = TLSClientSetup.boringSSLReason(text, peer: "client") { return why }
        if let c = error as? ChannelError, c == .eof || c == .inputClosed || c == .ioOnClosedChannel || c == .alreadyClosed {
            return "the client closed the connection during the TLS handshake"
        }
        if error is NIOSSLError, case .uncleanShutdown? = error as? NIOSSLError {
            return "the client closed the connection during the TLS handshake"
        }
        return TLSClientSetup.reason(error, setup: nil, observer: nil)
    }
}

/// Stands in front of an accepted connection until its TLS handshake is done: the connection
/// is handed on (`onReady`) only then, so a client whose handshake fails never reaches
/// `accept` and the server goes on; a client that stalls mid-handshake is dropped after the
/// timeout. Failures go to `onFailure` in plain words.
final class TLSServerGate: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let timeout: TimeInterval
    let onReady: (Channel) -> Void
    let onFailure: (Channel, String) -> Void
    private var done = false
    private var timer: Scheduled<Void>?

    init(timeout: TimeInterval, onReady: @escaping (Channel) -> Void, onFailure: @escaping (Channel, String) -> Void) {
        self.timeout = timeout; self.onReady = onReady; self.onFailure = onFailure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context)
        context.fireChannelActive()
    }

    private func startTimer(_ context: ChannelHandlerContext) {
        guard timer == nil, !done else { return }
        let ch = context.channel
        let t = timeout
        timer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(t * 1000))) { [weak self] in
            guard let self, !self.done else { return }
            self.done = true
            self.onFailure(ch, "no TLS handshake within \(Transcript.seconds(t)) (the client stalled)")
            ch.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if !done, case TLSUserEvent.handshakeCompleted? = event as? TLSUserEvent {
            done = true
            timer?.cancel()
            onReady(context.channel)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if done { context.fireErrorCaught(error); return }
        done = true
        timer?.cancel()
        onFailure(context.channel, TLSServerSetup.reason(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            timer?.cancel()
            onFailure(context.channel, "the client closed the connection during the TLS handshake")
        }
        context.fireChannelInactive()
    }
}
