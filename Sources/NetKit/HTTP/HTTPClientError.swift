import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTP client failure, named by what a learner can act on. Every message names the URL.
public struct HTTPClientFailure: Error, CustomStringConvertible, Sendable {
    /// The error kinds; the raw value is the kind a script catches.
    public enum Kind: String, Sendable {
        /// `http.check` on a 4xx/5xx response.
        case status = "http.status"
        /// Nothing arrived within `timeout:` (connecting, or between two reads).
        case timeout = "http.timeout"
        /// More redirects than allowed.
        case redirects = "http.redirects"
        /// The TLS handshake failed (untrusted or wrong certificate, not TLS).
        case tls = "http.tls"
        /// The server broke HTTP: a malformed or oversized head, a body cut short.
        case proto = "http.protocol"
        /// Socket failures, named as `SocketError` names them: connection refused, host name not
        /// resolved, connection reset or closed early, network unreachable, any other I/O error.
        case refused, resolve, reset, unreachable, io
        /// A request that cannot be sent as given (CR/LF in a header, a bad URL), or a body over `max:`.
        case value
        /// The cancellation check fired (Ctrl-C).
        case interrupted
    }
    /// What went wrong, as a kind a caller can switch on.
    public var kind: Kind
    /// A sentence naming the method and URL (`GET http://…: timed out`).
    public var message: String
    /// The URL of the request that failed (for `http.redirects`, the first one asked).
    public var url: String
    /// For `http.status`: the status code.
    public var status: Int?
    /// The TLS handshake failed because the certificate chain was refused (unknown CA, expired, …).
    var tlsChainRefused = false

    /// An error of `kind` for `url`; `status` for `http.status` errors.
    public init(_ kind: Kind, _ message: String, url: String, status: Int? = nil) {
        self.kind = kind; self.message = message; self.url = url; self.status = status
    }
    /// The message alone.
    public var description: String { message }

    /// Maps what AsyncHTTPClient, NIO or NIOSSL raised onto a kind, naming the URL. Messages
    /// are plain words: no library's type or case names.
    static func from(_ error: Error, method: String, url: String, tls: TLSClientSetup? = nil) -> HTTPClientFailure {
        if let e = error as? HTTPClientFailure { return e }
        let what = "\(method) \(url)"
        let host = URL(string: url)?.host ?? url
        if let f = error as? TLSFailure { return HTTPClientFailure(.tls, "\(what): TLS handshake failed: \(f.reason)", url: url) }
        if let d = error as? HTTPBodyDecodingError {
            return HTTPClientFailure(.proto, "\(what): \(d.words)", url: url)
        }
        if let s = error as? SocketError {
            let k: Kind
            switch s.kind {
            case .refused: k = .refused
            case .resolve: k = .resolve
            case .timeout: k = .timeout
            case .tls: k = .tls
            case .reset, .closed: k = .reset
            case .unreachable: k = .unreachable
            case .interrupted: k = .interrupted
            case .value: k = .value
            case .io: k = .io
            }
            return HTTPClientFailure(k, "\(what): \(s.message)", url: url)
        }
        if let io = error as? IOError {
            let s = SocketError.fromErrno(io.errnoCode, op: "", address: "")
            return from(SocketError(s.kind, String(cString: strerror(io.errnoCode)).lowercased(), address: ""), method: method, url: url)
        }
        if let c = error as? NIOConnectionError {
            if let first = c.connectionErrors.first { return from(first.error, method: method, url: url) }
            if c.dnsAError != nil || c.dnsAAAAError != nil {
                return HTTPClientFailure(.resolve, "\(what): cannot resolve the host name (\(c.host))", url: url)
            }
            return HTTPClientFailure(.refused, "\(what): cannot connect to \(c.host):\(c.port)", url: url)
        }
        if error is SocketAddressError {
            return HTTPClientFailure(.resolve, "\(what): cannot resolve the host name (\(host))", url: url)
        }
        if let p = error as? HTTPParserError {
            let detail: String
            switch p {
            case .headerOverflow: detail = "the response head is too large (over 80 KB of headers)"
            case .invalidEOFState: detail = "the server closed the connection before the response was complete"
            case .invalidVersion: detail = "malformed response (the status line has no valid HTTP version)"
            case .invalidStatus: detail = "malformed response (the status line has no valid status code)"
            case .invalidHeaderToken, .invalidCharactersUsed: detail = "malformed response (a header line is not valid)"
            case .invalidContentLength: detail = "malformed response (the Content-Length is not a number)"
            case .unexpectedContentLength: detail = "malformed response (conflicting Content-Length or Transfer-Encoding headers)"
            case .invalidChunkSize: detail = "malformed response (a chunk size of the chunked body is not valid)"
            case .closedConnection: detail = "the server closed the connection before the response was complete"
            default: detail = "malformed response (not valid HTTP/1.1)"
            }
            return HTTPClientFailure(.proto, "\(what): \(detail)", url: url)
        }
        if let h = error as? HTTPClientError {
            switch h {
            case .readTimeout, .connectTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
                return HTTPClientFailure(.timeout, "\(what): timed out", url: url)
            case .tlsHandshakeTimeout:
                return HTTPClientFailure(.timeout, "\(what): the TLS handshake timed out", url: url)
            case .remoteConnectionClosed:
                return HTTPClientFailure(.proto, "\(what): the server closed the connection before the response was complete", url: url)
            case .invalidURL, .emptyHost, .emptyScheme:
                return HTTPClientFailure(.value, "\(what): not a valid http:// or https:// URL", url: url)
            case .cancelled:
                return HTTPClientFailure(.interrupted, "\(what): interrupted", url: url)
            case .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
                return HTTPClientFailure(.timeout, "\(what): the proxy did not answer in time", url: url)
            case .proxyAuthenticationRequired:
                return HTTPClientFailure(.proto, "\(what): the proxy asks for credentials (407 Proxy Authentication Required)", url: url)
            case .invalidProxyResponse:
                return HTTPClientFailure(.proto, "\(what): the proxy refused to open a tunnel to the server", url: url)
            case .uncleanShutdown:
                return HTTPClientFailure(.proto, "\(what): the TLS connection was cut without a proper close", url: url)
            case .bodyLengthMismatch:
                return HTTPClientFailure(.proto, "\(what): the body's length does not match its Content-Length", url: url)
            default:
                return HTTPClientFailure(.proto, "\(what): the request failed in the HTTP client", url: url)
            }
        }
        let typeName = String(reflecting: type(of: error))
        if typeName.contains("NIOSSL") || typeName.contains("BoringSSL") {
            let reason = tls == nil && (error as? NIOSSLExtraError) == .failedToValidateHostname
                ? "the server's certificate is not for \(host)" : TLSClientSetup.reason(error, setup: tls, observer: nil)
            var f = HTTPClientFailure(.tls, "\(what): TLS handshake failed: \(reason)", url: url)
            f.tlsChainRefused = "\(error)".contains("CERTIFICATE_VERIFY_FAILED")
            return f
        }
        if typeName.contains("HTTP2") {
            return HTTPClientFailure(.proto, "\(what): the server broke the HTTP/2 protocol", url: url)
        }
        if typeName.contains("NIOHTTP") {
            return HTTPClientFailure(.proto, "\(what): malformed response (not valid HTTP)", url: url)
        }
        if let c = error as? ChannelError {
            switch c {
            case .connectTimeout: return HTTPClientFailure(.timeout, "\(what): connecting timed out", url: url)
            case .eof, .ioOnClosedChannel, .alreadyClosed, .inputClosed, .outputClosed:
                return HTTPClientFailure(.proto, "\(what): the server closed the connection before the response was complete", url: url)
            default: break
            }
        }
        return HTTPClientFailure(.io, "\(what): the request failed (an unexpected error in the connection)", url: url)
    }
}
