import Foundation
import NetKit

/// `http.raw`: one HTTP/1.x request typed by hand, the response as the server sent it.
enum HTTPRawBuiltins {
    static func register(in r: Interpreter) {
        r.register("http.raw", min: 2, max: 2, options: ["body", "tls", "verify", "ca", "sni", "timeout", "max"],
                   usage: "http.raw \"HOST[:PORT]\" \"METHOD TARGET HTTP/1.1\\r\\nHeader: v\\r\\n\\r\\n\"|[LINES] [body: DATA] [tls: false] [verify: true] [ca: \"ca.pem\"] [sni: NAME] [timeout: 10] [max: 1048576]",
                   summary: "Sends one HTTP request exactly as typed on a new connection and reads one response as the server sent it: no headers added, no redirects followed, nothing decoded. The request is a string holding the whole head, ended by an empty line (\\r\\n\\r\\n; a body may follow), or a list of lines (request line, then headers) which are joined with CRLF and ended for you — each line must not hold CR or LF, so a header cannot inject another. body: is sent after the head as given (write its Content-Length line yourself). The response has status_line version status_code reason headers (a list of [name, value] pairs in the order and spelling received) head body (bytes as on the wire: a chunked body keeps its chunk lines; gzip stays compressed) text framing (content-length, chunked, close or none) truncated (the body went past max: bytes, and only its start was kept) elapsed. The connection closes after the response. Port 80, or 443 with tls: true (verified as for connect). Errors: refused timeout http.protocol (not an HTTP response) value (a request without its empty line, CR/LF in a line).",
                   example: "r = http.raw \"127.0.0.1:8080\" [\"GET / HTTP/1.1\", \"Host: x\", \"Connection: close\"]\nprint r.status_line\nfor h in r.headers { print h[0] \"=\" h[1] }") { a in
            let addressText = try a.string(0)
            var tls: TLSOptions? = nil
            if a.optionBool("tls") == true {
                tls = TLSOptions(verify: a.optionBool("verify") ?? true, caFile: try a.optionString("ca"), serverName: try a.optionString("sni"))
            } else {
                for o in ["verify", "ca", "sni"] where a.option(o) != nil { throw Diagnostic.value("http.raw: \(o): only applies with tls: true") }
            }
            let address: String
            do { address = try Endpoint(parsing: addressText, defaultPort: tls == nil ? 80 : 443).description }
            catch let e as SocketError { throw Diagnostic.value("http.raw: \(e.message)") }
            var request: [UInt8]
            do {
                switch a[1] {
                case .string(let s): request = Array(s.utf8)
                case .bytes(let b): request = b
                case .list(let l):
                    let lines = try l.items.map { v -> String in
                        guard case .string(let s) = v else { throw Diagnostic.type("http.raw: the request lines must be strings, not \(v.typeName.withArticle)") }
                        return s
                    }
                    request = try HTTPRaw.head(lines)
                default:
                    throw Diagnostic.type("http.raw: argument 2 must be the request as a string or a list of lines, not \(a[1].typeName.withArticle)")
                }
            } catch let e as HTTPClientFailure { throw HTTPBuiltins.diagnostic(e) }
            if let b = a.option("body") {
                switch b {
                case .string(let s): request += Array(s.utf8)
                case .bytes(let d): request += d
                case .nil: break
                default: throw Diagnostic.type("http.raw: body: must be a string or bytes, not \(b.typeName.withArticle)")
                }
            }
            guard request.count <= 64 << 20 else { throw Diagnostic.value("http.raw: the request is over 64 MiB") }
            let timeout = try a.timeout(10, max: 3600)
            var maxBody = HTTPRaw.defaultMaxBody
            if let m = try a.optionInt("max") {
                guard m >= 0, m <= 1 << 30 else { throw Diagnostic.value("http.raw: max: must be between 0 and 1073741824 bytes") }
                maxBody = m
            }
            let t = a.interp.transcript
            let resp = try HTTPBuiltins.run {
                try HTTPRaw.exchange(address: address, request: request, tls: tls, timeout: timeout, maxBody: maxBody,
                                     transcript: t, cancel: socketCancel)
            }
            return .native(HTTPRawResponseValue(resp))
        }
    }
}

/// A response read by `http.raw`, as received.
final class HTTPRawResponseValue: NativeObject {
    let response: HTTPRawResponse
    init(_ r: HTTPRawResponse) { response = r }
    override var typeName: String { "http_raw_response" }
    static let names = ["status_line", "version", "status_code", "reason", "headers", "head", "body", "text", "framing", "truncated", "elapsed", "address"]
    override var fieldNames: [String] { HTTPRawResponseValue.names }
    override func field(_ name: String) throws -> Value? {
        let r = response
        switch name {
        case "status_line": return .string(r.statusLine)
        case "version": return .string(r.version)
        case "status_code": return .int(r.status)
        case "reason": return .string(r.reason)
        case "headers": return .list(r.headers.map { .list([.string($0.0), .string($0.1)]) })
        case "head": return .string(r.head)
        case "body": return .bytes(r.body)
        case "text": return .string(String(decoding: r.body, as: UTF8.self))
        case "framing": return .string(r.framing)
        case "truncated": return .bool(r.truncated)
        case "elapsed": return .float(r.elapsed)
        case "address": return .string(r.address)
        default: return nil
        }
    }
    override var isTruthy: Bool { response.status < 400 }
    /// The head as received, then how much body came.
    override var description: String {
        let r = response
        var s = ([r.statusLine] + r.headers.map { "\($0.0): \($0.1)" }).joined(separator: "\n")
        s += "\n\n(\(r.body.count) body byte\(r.body.count == 1 ? "" : "s"), \(r.framing)\(r.truncated ? ", truncated at max:" : ""))"
        return s
    }
}
