import Foundation

/// One HTTP/1.x exchange as typed: the request bytes go out exactly as given, and the response
/// comes back as the server sent it — status line, headers in their order and spelling, and
/// the body as far as its framing says (Content-Length, chunked — the chunk lines kept —, or
/// to the close), with no redirects followed and nothing decoded.
public struct HTTPRawResponse: Sendable {
    /// The first line of the response as received, without its line end (`HTTP/1.1 200 OK`).
    public var statusLine: String
    /// The status line's protocol version token (`HTTP/1.1`, `HTTP/1.0`).
    public var version: String
    /// The three-digit status code (100…999); an interim 1xx response is returned as it is, not
    /// skipped.
    public var status: Int
    /// The reason phrase after the code (`OK`); empty when the server sent none.
    public var reason: String
    /// Header fields in the order and spelling received: the name before the first colon, the value
    /// with surrounding spaces and tabs trimmed. A repeated field appears once per line.
    public var headers: [(String, String)]
    /// The body bytes as they came on the wire (a chunked body with its chunk framing).
    public var body: [UInt8]
    /// How its end was found: "content-length", "chunked", "close" or "none" (HEAD, 1xx, 204, 304).
    public var framing: String
    /// True when the body was longer than the limit and only its start was kept.
    public var truncated: Bool
    /// Wall-clock seconds from the call to the end of the body (connect and TLS handshake included).
    public var elapsed: Double
    /// The `HOST:PORT` the request was sent to, as given.
    public var address: String

    /// The head as received, lines joined with CRLF (no final blank line).
    public var head: String { ([statusLine] + headers.map { "\($0.0): \($0.1)" }).joined(separator: "\r\n") }
}

/// Raw HTTP/1.x exchanges (`http.raw`): a request sent byte for byte on its own connection and
/// the response read by its framing alone (RFC 9112 §6.3), without the client's conveniences.
public enum HTTPRaw {
    /// The largest response head read (status line and headers), as the fast path allows.
    public static let maxHead = 64 << 10
    /// The most lines in a response head, status line included (RFC 9112 leaves the limit to the
    /// recipient); a longer head fails with a `.proto` `HTTPClientFailure`.
    public static let maxHeaderLines = 200
    /// The default most body bytes kept.
    public static let defaultMaxBody = 1 << 20

    /// The request head as the transcript shows it (lines without CR, Authorization masked).
    static func shown(_ head: String) -> String {
        // By bytes: in a Swift String "\r\n" is one Character, so splitting at "\n" would miss it.
        var lines = Array(head.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).map { l -> String in
            String(decoding: l.last == 0x0D ? l.dropLast() : l[...], as: UTF8.self)
        }
        while lines.last == "" { lines.removeLast() }
        return lines.map { line in
            guard let colon = line.firstIndex(of: ":") else { return line }
            let name = line[..<colon].lowercased()
            guard name == "authorization" || name == "proxy-authorization" else { return line }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let scheme = value.split(separator: " ").first.map(String.init) ?? ""
            return "\(line[..<colon]): \(scheme) \(Transcript.mask(value))"
        }.joined(separator: "\n")
    }

    /// Sends `request` (a head ending with an empty line, and any body after it) to `address`
    /// (`HOST:PORT`; TLS when `tls` is given) on a new connection, reads one response and
    /// closes. `timeout` (seconds) bounds the connect and each wait for bytes, not the whole
    /// exchange; at most `maxBody` body bytes are kept (`truncated` says when more came).
    /// Throws `HTTPClientFailure`: `.value` when `request` has no blank line ending its head,
    /// the connection's error kinds for connect, send and receive failures, `.proto` for a
    /// response that is not HTTP/1.x or a head past `maxHead`/`maxHeaderLines`, `.interrupted`
    /// when `cancel` fires.
    public static func exchange(address: String, request: [UInt8], tls: TLSOptions? = nil, timeout: Double = 10,
                                maxBody: Int = defaultMaxBody, transcript: Transcript? = nil,
                                cancel: CancelCheck? = nil) throws -> HTTPRawResponse {
        let start = Date()
        let url = "\(tls == nil ? "http" : "https")://\(address)"
        func fail(_ kind: HTTPClientFailure.Kind, _ message: String) -> HTTPClientFailure {
            transcript?.record("http", .note, message)
            return HTTPClientFailure(kind, "http.raw \(address): \(message)", url: url)
        }
        guard let headEnd = HTTPRaw.headEnd(request) else {
            throw HTTPClientFailure(.value, "http.raw \(address): the request has no end of head (an empty line, \\r\\n\\r\\n): the server would wait for more", url: url)
        }
        let headText = String(decoding: request[..<headEnd], as: UTF8.self)
        let method = headText.prefix { $0 != " " && $0 != "\r" && $0 != "\n" }.uppercased()
        let conn: StreamConnection
        do {
            conn = try StreamConnection.connect(address, timeout: timeout, tls: tls, transcript: nil, cancel: cancel)
        } catch {
            let f = HTTPClientFailure.from(error, method: "http.raw", url: url)
            transcript?.record("tcp", .note, "connect failed (\(f.kind.rawValue)): \(f.message)")
            throw f
        }
        defer { conn.close(timeout: 0.5) }
        transcript?.record(tls == nil ? "tcp" : "tls", .note, "connected \(conn.localText) → \(conn.peerText)\(conn.isReplayed ? " (replayed from the recording)" : "")")
        if let s = conn.tlsSummary { transcript?.record("tls", .note, s) }
        if let t = transcript {
            t.record("http", .client, shown(headText))
            if request.count > headEnd { t.record("http", .client, "… \(HTTPClientSupport.grouped(request.count - headEnd)) bytes") }
        }
        if cancel?() == true { throw HTTPClientFailure(.interrupted, "interrupted", url: url) }
        func io<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as HTTPClientFailure { throw e } catch {
                let f = HTTPClientFailure.from(error, method: "http.raw", url: url)
                transcript?.record("http", .note, f.message)
                throw f
            }
        }
        try io { try conn.send(request, timeout: timeout) }

        // The head: one line at a time (CRLF, or a bare LF as RFC 9112 §2.2 lets a recipient accept).
        var lines: [String] = []
        var headBytes = 0
        while true {
            guard let raw = try io({ try conn.recvUntil([0x0A], max: maxHead - headBytes, timeout: timeout, what: "response head") }) else {
                throw fail(.proto, lines.isEmpty ? "the server closed the connection without a response" : "the server closed the connection in the middle of the head")
            }
            headBytes += raw.count
            var line = raw
            if line.last == 0x0A { line.removeLast() } else {
                throw fail(.proto, "the server closed the connection in the middle of the head")
            }
            if line.last == 0x0D { line.removeLast() }
            if line.isEmpty { if lines.isEmpty { continue }; break }
            guard lines.count < maxHeaderLines else { throw fail(.proto, "more than \(maxHeaderLines) header lines") }
            lines.append(String(decoding: line, as: UTF8.self))
        }
        let statusLine = lines[0]
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]), (100...999).contains(status) else {
            throw fail(.proto, "not an HTTP status line: \"\(Transcript.escape(Array(statusLine.utf8), limit: 80))\"")
        }
        var headers: [(String, String)] = []
        for l in lines.dropFirst() {
            guard let colon = l.firstIndex(of: ":") else { throw fail(.proto, "a header line without a colon: \"\(Transcript.escape(Array(l.utf8), limit: 80))\"") }
            headers.append((String(l[..<colon]), l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        transcript?.record("http", .server, lines.joined(separator: "\n"))
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }

        var body: [UInt8] = []
        var truncated = false
        var framing = "none"
        /// Appends up to what the limit keeps; the rest is read and dropped.
        func keep(_ b: [UInt8]) {
            let room = maxBody - body.count
            if b.count <= room { body += b } else { body += b.prefix(max(0, room)); truncated = true }
        }
        let bodiless = method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304
        if !bodiless {
            if let te = header("transfer-encoding"), te.lowercased().contains("chunked") {
                framing = "chunked"
                // The chunks as they came: size lines, data, trailers, up to the final empty line.
                var inTrailers = false
                var total = 0
                while true {
                    guard let line = try io({ try conn.recvUntil([0x0A], max: 4096, timeout: timeout, what: "chunk size") }), line.last == 0x0A else {
                        throw fail(.proto, "the body ended before its last chunk")
                    }
                    keep(line)
                    var text = String(decoding: line, as: UTF8.self)
                    text = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    if inTrailers { if text.isEmpty { break }; continue }
                    let hex = text.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
                    guard let size = Int(hex, radix: 16), size >= 0, size < 1 << 40 else {
                        throw fail(.proto, "a chunk size that is not hex: \"\(Transcript.escape(line, limit: 60))\"")
                    }
                    if size == 0 { inTrailers = true; continue }
                    total += size
                    guard total <= 64 * maxBody + (64 << 20) else { throw fail(.value, "the body runs past \(total) bytes; stopped") }
                    var left = size + 2
                    while left > 0 {
                        guard let b = try io({ try conn.recv(max: min(left, 65536), timeout: timeout) }) else {
                            throw fail(.proto, "the body ended in the middle of a chunk")
                        }
                        keep(b); left -= b.count
                    }
                }
            } else if let cl = header("content-length") {
                guard let n = Int(cl), n >= 0 else { throw fail(.proto, "Content-Length is not a number: \"\(cl)\"") }
                framing = "content-length"
                var left = n
                while left > 0 {
                    guard let b = try io({ try conn.recv(max: min(left, 65536), timeout: timeout) }) else {
                        throw fail(.proto, "the body ended after \(n - left) of \(n) bytes (Content-Length)")
                    }
                    keep(b); left -= b.count
                    if truncated { break }
                }
            } else {
                framing = "close"
                while let b = try io({ try conn.recv(max: 65536, timeout: timeout) }) {
                    keep(b)
                    if truncated { break }
                }
            }
        }
        if !body.isEmpty || truncated {
            transcript?.record("http", .server, "… \(HTTPClientSupport.grouped(body.count)) bytes\(truncated ? " kept (the body was longer: max: raises the limit)" : "") (\(framing))")
        }
        return HTTPRawResponse(statusLine: statusLine, version: parts[0], status: status, reason: parts.count > 2 ? parts[2] : "",
                               headers: headers, body: body, framing: framing, truncated: truncated,
                               elapsed: Date().timeIntervalSince(start), address: address)
    }

    /// The offset just past the head's empty line (CRLF CRLF, or LF LF), nil without one.
    static func headEnd(_ b: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < b.count {
            if b[i] == 0x0A {
                if b[i + 1] == 0x0A { return i + 2 }
                if b[i + 1] == 0x0D, i + 2 < b.count, b[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// A request head from its parts: each line checked for CR and LF (header injection),
    /// joined with CRLF and ended with the empty line.
    public static func head(_ lines: [String]) throws -> [UInt8] {
        guard let first = lines.first, !first.isEmpty else { throw HTTPClientFailure(.value, "http.raw: the request line is empty", url: "") }
        for (i, l) in lines.enumerated() {
            if l.contains("\r") || l.contains("\n") {
                throw HTTPClientFailure(.value, "http.raw: line \(i + 1) of the request holds a CR or LF (\"\(Transcript.escape(Array(l.utf8), limit: 60))\"): each line must be one line, or it would inject another header", url: "")
            }
            if i > 0 && l.isEmpty { throw HTTPClientFailure(.value, "http.raw: line \(i + 1) of the request is empty: it would end the head early", url: "") }
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }
}
