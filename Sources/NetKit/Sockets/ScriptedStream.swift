import Foundation

/// A `ByteStream` whose other end is a scripted peer in memory: a list of steps — lines the
/// client must send, replies the peer sends back, the peer closing — played in order. A
/// protocol client's state machine (SMTP, FTP, DNS over TCP) can be tested step by step
/// with it, without a socket: `SMTPClient(over:)`, `FTPClient(over:)`, `DNSSocket(stream:)`.
///
/// The script is strict: a client line that differs from the expected one, bytes sent after
/// the script's end, or a read while the script waits for the client to send, each fail at
/// once with an error (a `SocketError` of kind `io`) that names the step, what was expected
/// and what came; `failure` keeps the first. Writes after the peer closed fail as on a real
/// socket (`reset`, broken pipe). Replies are released as soon as the steps before them
/// are met, so a pipelining client (commands sent together, replies read later) works.
public final class ScriptedStream: ByteStream, @unchecked Sendable {
    /// One step of the peer's script.
    public enum Step {
        /// A line the client must send, without its line end (CR LF or LF).
        case expect(String)
        /// Text the peer sends ("250 OK\r\n": the line end is part of it).
        case reply(String)
        /// Bytes the peer sends.
        case replyBytes([UInt8])
        /// Bytes the client must send, read by `take`: nil while more bytes are needed, else
        /// how many it consumed and the bytes to send back. It throws (any error, shown by its
        /// description) when the bytes are wrong. `what` names the step in failures.
        case custom(String, take: ([UInt8]) throws -> (consumed: Int, reply: [UInt8])?)
        /// The peer closes the connection (the client reads end of stream).
        case close
    }

    private let lock = NSLock()
    private var steps: [Step]
    private var next = 0
    private var fromClient: [UInt8] = []
    private var toClient: [UInt8] = []
    private var toClientStart = 0
    private var peerClosed = false
    private var closedByClient = false
    private var clientShutWrite = false
    /// The first mismatch, as text; nil while the script is followed.
    public private(set) var failure: String? = nil
    /// Every line the client sent (line ends removed), in order.
    public private(set) var clientLines: [String] = []
    /// The peer's address as messages show it (the `name` given to `init`).
    public let peerName: String
    /// This end's name in messages: there is no socket, so a fixed `scripted-client`.
    public let localName = "scripted-client"

    /// A peer that plays `steps`; `name` is its address in messages ("smtp.example.test:25").
    public init(_ steps: [Step], name: String = "scripted-peer") {
        self.steps = steps; self.peerName = name
    }

    /// Whether every step has been played.
    public var finished: Bool { lock.lock(); defer { lock.unlock() }; return next == steps.count }

    /// Throws unless every step was played and nothing went wrong.
    public func checkFinished() throws {
        lock.lock(); defer { lock.unlock() }
        if let failure { throw SocketError(.io, failure, address: peerName) }
        if next < steps.count {
            throw SocketError(.io, "\(peerName): the script stopped at step \(next + 1) of \(steps.count) (\(describe(steps[next])))", address: peerName)
        }
    }

    private func describe(_ s: Step) -> String {
        switch s {
        case .expect(let l): return "expecting the client to send \"\(l)\""
        case .reply(let t): return "replying \"\(t.trimmingCharacters(in: .newlines))\""
        case .replyBytes(let b): return "replying \(b.count) bytes"
        case .custom(let what, _): return "expecting \(what)"
        case .close: return "closing"
        }
    }

    /// Records the first failure and returns it as the error to throw. Lock held.
    private func fail(_ message: String) -> SocketError {
        let m = "\(peerName): \(message)"
        if failure == nil { failure = m }
        return SocketError(.io, failure!, address: peerName)
    }

    /// Plays every step that can be played now. Lock held.
    private func advance() throws {
        if let failure { throw SocketError(.io, failure, address: peerName) }
        while next < steps.count {
            switch steps[next] {
            case .reply(let t): toClient += Array(t.utf8)
            case .replyBytes(let b): toClient += b
            case .close: peerClosed = true
            case .expect(let line):
                guard let nl = fromClient.firstIndex(of: 0x0A) else { return }
                var got = Array(fromClient[..<nl])
                if got.last == 0x0D { got.removeLast() }
                fromClient.removeFirst(nl + 1)
                let text = String(decoding: got, as: UTF8.self)
                clientLines.append(text)
                if text != line {
                    throw fail("step \(next + 1): expected the client to send \"\(line)\", got \"\(Transcript.escape(got, limit: 200))\"")
                }
            case .custom(let what, let take):
                let r: (consumed: Int, reply: [UInt8])?
                do { r = try take(fromClient) } catch {
                    throw fail("step \(next + 1): \(what): \(error)")
                }
                guard let r else { return }
                fromClient.removeFirst(min(r.consumed, fromClient.count))
                toClient += r.reply
            }
            next += 1
        }
        if !fromClient.isEmpty {
            throw fail("the client sent \"\(Transcript.escape(fromClient, limit: 200))\" after the end of the script")
        }
    }

    /// Plays the script up to the next step that needs the client, then copies waiting reply bytes
    /// (at most `buffer.count`). Returns `.end` once the peer's `close` step is reached and its bytes
    /// are read. Never waits (`deadline` is ignored): throws `SocketError` (`.io`) when the script
    /// expects the client to send first or has ended, `.closed` after `close`/`abandon`.
    public func readSome(into buffer: UnsafeMutableRawBufferPointer, deadline: Date) throws -> ByteStreamRead {
        lock.lock(); defer { lock.unlock() }
        if closedByClient { throw SocketError(.closed, "recv from \(peerName): the connection is closed", address: peerName) }
        try advance()
        let waiting = toClient.count - toClientStart
        if waiting > 0 {
            let n = min(waiting, buffer.count)
            toClient.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + toClientStart, byteCount: n) }
            toClientStart += n
            if toClientStart == toClient.count { toClient.removeAll(); toClientStart = 0 }
            return .data(n)
        }
        if peerClosed { return .end }
        if next < steps.count {
            throw fail("step \(next + 1): the client waits for the peer, but the script is \(describe(steps[next]))")
        }
        throw fail("the client reads after the end of the script (it has \(steps.count) steps)")
    }

    /// Takes the client's bytes and plays every step they satisfy, queuing the replies. Throws
    /// `SocketError`: `.io` for bytes that differ from the expected step or come after the script's
    /// end (kept in `failure`), `.closed` after `close`, `abandon` or `shutdownWrite`, `.reset` when
    /// the peer has closed and the script is over.
    public func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: Date, cancel: CancelCheck?) throws {
        lock.lock(); defer { lock.unlock() }
        if closedByClient { throw SocketError(.closed, "send to \(peerName): the connection is closed", address: peerName) }
        if clientShutWrite { throw SocketError(.closed, "send to \(peerName): the sending side was shut down", address: peerName) }
        if peerClosed && next == steps.count {
            throw SocketError(.reset, "send to \(peerName): the other side closed the connection (broken pipe)", address: peerName)
        }
        fromClient += bytes
        try advance()
    }

    /// Nothing to do: writes take effect at once.
    public func flush(deadline: Date, cancel: CancelCheck?) throws {}
    /// Records that the client is done sending; later writes fail with `.closed`. Reading goes on.
    public func shutdownWrite(deadline: Date, cancel: CancelCheck?) throws { lock.lock(); clientShutWrite = true; lock.unlock() }
    /// Closes the client's end at once (nothing is buffered, `deadline` is not needed).
    public func close(deadline: Date) { abandon() }
    /// Closes the client's end; later reads and writes fail with `SocketError` (`.closed`).
    public func abandon() { lock.lock(); closedByClient = true; lock.unlock() }

    /// Whether a read would not have to wait for the client: reply bytes are queued, the peer
    /// closed, or the next step is the peer's (a reply or a close).
    public var hasInput: Bool {
        lock.lock(); defer { lock.unlock() }
        if toClient.count > toClientStart || peerClosed { return true }
        if next < steps.count, case .expect = steps[next] { return false }
        if next < steps.count, case .custom = steps[next] { return false }
        return next < steps.count
    }
    /// True once the peer's `close` step is reached and every reply byte has been read.
    public var endReached: Bool { lock.lock(); defer { lock.unlock() }; return peerClosed && toClient.count == toClientStart }
    /// True once the peer's `close` step was reached or the client closed its end.
    public var isPeerGone: Bool { lock.lock(); defer { lock.unlock() }; return peerClosed || closedByClient }
    /// Always nil: a scripted stream has no file descriptor, so zero-copy paths are not taken.
    public var rawDescriptor: Int32? { nil }
}
