import Foundation

/// Who sent a protocol step: the client (us), the server (the peer), or neither (a note such as
/// "connected to 127.0.0.1:25" or "TLS handshake done").
public enum TranscriptDirection: String, Sendable {
    case client = "C"
    case server = "S"
    case note = "*"
}

/// One protocol step, as a learner would want to see it: an SMTP command, a server reply,
/// a DNS message section, an HTTP head, a chunk of socket bytes.
public struct TranscriptEvent: Sendable {
    /// The protocol family that reported the step ("smtp", "ftp", "dns", "http", "tcp", …).
    public var proto: String
    /// Who sent the step: client, server, or a note from NetScript itself.
    public var direction: TranscriptDirection
    /// When the step was recorded (or the time saved with it, for a loaded transcript).
    public var time: Date
    /// Which command (a top-level statement, one REPL entry) recorded the step; set by
    /// `Transcript.record`, so `trace explain` can show the last command's steps alone.
    public var command: Int = 0
    /// The server end of the connection the step crossed ("127.0.0.1:25"), when it is known —
    /// also for steps NetScript recorded as the server: diagrams draw one lane per server.
    public var peer: String?
    private var storage: Storage

    private enum Storage: Sendable {
        case text(String)
        /// Rendered only when someone looks: sockets record every send and receive, and
        /// escaping bytes nobody reads would cost more than the send itself.
        case deferred(@Sendable () -> String)
        /// Socket bytes (`→ 18 bytes "…"`), kept as bytes and escaped when shown: a send or
        /// receive records one, and neither a closure nor the text is made for it until then.
        case bytes(label: String, count: Int, head: [UInt8], tail: [UInt8]?)
    }

    /// The text to show; already masked where it carried a secret.
    public var text: String {
        get {
            switch storage {
            case .text(let t): return t
            case .deferred(let render): return render()
            case .bytes(let label, let count, let head, let tail):
                let shown = tail.map { Transcript.escape(head: head, tail: $0, limit: Transcript.bytesShown) }
                    ?? Transcript.escape(head, limit: Transcript.bytesShown)
                return "\(label)\(count) \(count == 1 ? "byte" : "bytes") \"\(shown)\""
            }
        }
        set { storage = .text(newValue) }
    }

    /// A step with its text already rendered (and masked where it carries a secret).
    public init(proto: String, direction: TranscriptDirection, text: String, time: Date = Date()) {
        self.proto = proto
        self.direction = direction
        self.storage = .text(text)
        self.time = time
    }

    /// A step of socket bytes, rendered when shown as `label`, the count and the escaped bytes;
    /// of long data only the two ends that can be shown are kept.
    init(proto: String, direction: TranscriptDirection, label: String, bytes data: [UInt8]) {
        self.proto = proto
        self.direction = direction
        self.time = Date()
        let limit = Transcript.bytesShown
        if data.count <= 2 * limit + 8 {
            storage = .bytes(label: label, count: data.count, head: data, tail: nil)
        } else {
            storage = .bytes(label: label, count: data.count, head: Array(data.prefix(limit)), tail: Array(data.suffix(limit)))
        }
    }

    /// A step whose text is made by `render` when first shown.
    public init(proto: String, direction: TranscriptDirection, time: Date = Date(), render: @escaping @Sendable () -> String) {
        self.proto = proto
        self.direction = direction
        self.storage = .deferred(render)
        self.time = time
    }
}

/// The observer every NetKit client reports its steps to. A client never prints: it hands
/// each step to its transcript, which keeps the most recent steps (for replay) and passes
/// each one live to a sink while tracing is on.
public final class Transcript: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [TranscriptEvent] = []
    /// Where the oldest step is once `events` is full.
    private var head = 0
    private var live: Bool = false
    private var sink: ((TranscriptEvent) -> Void)?
    /// How many steps are kept for replay; older ones are dropped first.
    public let capacity: Int
    /// The number of the command now running (see `beginCommand`).
    private var currentCommand = 0
    /// Called before a step NetScript is about to send is recorded (step mode); returns false
    /// to abandon the command. Not called with the lock held.
    private var gate: ((TranscriptEvent) -> Bool)?

    /// An empty transcript that keeps the most recent `capacity` steps (older ones are dropped
    /// first; 0 keeps none) and passes each step to `sink` while `isLive` is true. Tracing is off
    /// until `isLive` is set.
    public init(capacity: Int = 10_000, sink: ((TranscriptEvent) -> Void)? = nil) {
        self.capacity = capacity
        self.sink = sink
    }

    /// Whether steps are passed to the sink as they happen (`trace on`).
    public var isLive: Bool {
        get { lock.lock(); defer { lock.unlock() }; return live }
        set { lock.lock(); live = newValue; lock.unlock() }
    }

    /// Replaces the function live steps are passed to (nil: none). The sink is called on the
    /// recording thread, after the transcript's lock is released.
    public func setSink(_ sink: ((TranscriptEvent) -> Void)?) {
        lock.lock(); self.sink = sink; lock.unlock()
    }

    /// Starts a new command: the steps recorded from now on belong to it. The interpreter
    /// calls this before each top-level statement.
    public func beginCommand() {
        lock.lock(); currentCommand += 1; lock.unlock()
    }

    /// The steps of the most recent command that recorded any (what `trace explain` shows
    /// by default), oldest first.
    public var lastCommandSteps: [TranscriptEvent] {
        let all = steps
        guard let last = all.last?.command else { return [] }
        var start = all.count
        while start > 0 && all[start - 1].command == last { start -= 1 }
        return Array(all[start...])
    }

    /// Installs (or removes) the step gate: called with each step NetScript is about to send,
    /// before it is sent; returning false abandons the command.
    public func setGate(_ gate: ((TranscriptEvent) -> Bool)?) {
        lock.lock(); self.gate = gate; lock.unlock()
    }

    /// Whether a step gate is installed (step mode is on).
    public var hasGate: Bool {
        lock.lock(); defer { lock.unlock() }; return gate != nil
    }

    /// Whether NetScript sends this step (rather than receives it, or notes it): a client's
    /// command, or socket bytes shown with `→`.
    public static func isOutgoing(_ e: TranscriptEvent) -> Bool {
        switch e.proto {
        case "tcp", "tls", "udp", "unix":
            return e.direction != .note && e.text.hasPrefix("→")
        case "note":
            return false
        default:
            return e.direction == .client
        }
    }

    /// Records one step. Secrets must already be masked (see `Transcript.mask`).
    public func record(_ event: TranscriptEvent) {
        var event = event
        lock.lock()
        let g = gate
        event.command = currentCommand
        if g == nil {
            // No step gate (the usual case): kept under the same lock.
            keep(event)
            let deliver = live ? sink : nil
            lock.unlock()
            deliver?(event)
            return
        }
        lock.unlock()
        if let g, Transcript.isOutgoing(event), !g(event) {
            // Abandoned: the gate has asked the caller's cancellation check to fire, so the
            // send that follows fails as interrupted. The step is kept, marked.
            event.text += "   (abandoned before sending)"
        }
        lock.lock()
        keep(event)
        let deliver = live ? sink : nil
        lock.unlock()
        deliver?(event)
    }

    /// Adds a step to the ring; the caller holds the lock. Once full, the oldest step is
    /// overwritten (no shifting of the whole array).
    private func keep(_ event: TranscriptEvent) {
        if events.count < capacity { events.append(event) }
        else if capacity > 0 { events[head] = event; head = (head + 1) % capacity }
    }

    /// Records a step from its parts (see `record(_:)`: the text must already be masked).
    public func record(_ proto: String, _ direction: TranscriptDirection, _ text: String) {
        record(TranscriptEvent(proto: proto, direction: direction, text: text))
    }

    /// Records a step with the server end of its connection (a diagram's lane).
    public func record(_ proto: String, _ direction: TranscriptDirection, _ text: String, peer: String?) {
        var e = TranscriptEvent(proto: proto, direction: direction, text: text)
        e.peer = peer
        record(e)
    }

    /// Adds steps read back from a saved transcript (`trace load`) as one new command, so
    /// `trace explain` and `trace diagram` show them; they are neither shown live nor gated.
    public func append(loaded: [TranscriptEvent]) {
        lock.lock()
        currentCommand += 1
        for var e in loaded {
            e.command = currentCommand
            if events.count < capacity { events.append(e) }
            else if capacity > 0 { events[head] = e; head = (head + 1) % capacity }
        }
        currentCommand += 1
        lock.unlock()
    }

    /// Records a step whose text is rendered only if it is shown or read.
    public func record(_ proto: String, _ direction: TranscriptDirection, render: @escaping @Sendable () -> String) {
        record(TranscriptEvent(proto: proto, direction: direction, render: render))
    }

    /// The steps kept so far, oldest first.
    public var steps: [TranscriptEvent] {
        lock.lock(); defer { lock.unlock() }
        return head == 0 ? events : Array(events[head...] + events[..<head])
    }

    /// Drops every kept step; the sink, `isLive` and the command number are unchanged.
    public func clear() {
        lock.lock(); events.removeAll(); head = 0; lock.unlock()
    }

    /// The conventional rendering of a step: `C: EHLO host`, `S: 250 OK`, `* connected`.
    /// Multi-line text gets the prefix on every line.
    public static func render(_ event: TranscriptEvent) -> String {
        let prefix = event.direction.rawValue + ": "
        return event.text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { prefix + $0 }.joined(separator: "\n")
    }

    /// Replaces a secret with asterisks of a fixed length, so the length of a password
    /// is not revealed either.
    public static func mask(_ secret: String) -> String { secret.isEmpty ? "" : "********" }

    /// Records bytes that crossed the wire — `→ 18 bytes "GET / HTTP/1.0\r\n\r\n"` after
    /// `label` — keeping no more of them than the line can show: the transcript keeps thousands
    /// of steps, and a step must not hold a megabyte of received data alive.
    public func recordBytes(_ proto: String, _ direction: TranscriptDirection, _ label: String, _ data: [UInt8], peer: String? = nil) {
        var e = TranscriptEvent(proto: proto, direction: direction, label: label, bytes: data)
        e.peer = peer
        record(e)
    }

    /// How many bytes of each end of socket data a step shows.
    static let bytesShown = 200

    /// The two ends of long data, escaped, with the middle elided.
    static func escape(head: some Collection<UInt8>, tail: some Collection<UInt8>, limit: Int) -> String {
        let keep = (limit - 5) / 2
        return String(escape(head, limit: Int.max).prefix(keep)) + " … " + String(escape(tail, limit: Int.max).suffix(keep))
    }

    /// Renders bytes for a trace line: printable ASCII as is, the rest escaped
    /// (`\r`, `\n`, `\t`, `\xNN`), and the middle elided when longer than `limit` characters.
    public static func escape(_ bytes: some Collection<UInt8>, limit: Int = 200) -> String {
        // Long data: escape only the two ends that can be shown (each escapes to at least as
        // many characters as it has bytes), so a megabyte costs no more than a line.
        if limit >= 10, limit < Int.max / 4, bytes.count > 2 * limit + 8 {
            return escape(head: bytes.prefix(limit), tail: bytes.suffix(limit), limit: limit)
        }
        // Built as UTF-8 bytes (all ASCII), which is several times faster than appending
        // to a String scalar by scalar; sockets trace every send and receive.
        let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
        var buf: [UInt8] = []
        buf.reserveCapacity(bytes.count + 16)
        for b in bytes {
            switch b {
            case 0x0A: buf.append(0x5C); buf.append(0x6E)
            case 0x0D: buf.append(0x5C); buf.append(0x72)
            case 0x09: buf.append(0x5C); buf.append(0x74)
            case 0x5C: buf.append(0x5C); buf.append(0x5C)
            case 0x22: buf.append(0x5C); buf.append(0x22)
            case 0x20...0x7E: buf.append(b)
            default:
                buf.append(0x5C); buf.append(0x78)
                buf.append(hexDigits[Int(b >> 4)]); buf.append(hexDigits[Int(b & 15)])
            }
        }
        guard buf.count > limit, limit >= 10 else { return String(decoding: buf, as: UTF8.self) }
        let keep = (limit - 5) / 2
        return String(decoding: buf.prefix(keep), as: UTF8.self) + " … " + String(decoding: buf.suffix(keep), as: UTF8.self)
    }
}
