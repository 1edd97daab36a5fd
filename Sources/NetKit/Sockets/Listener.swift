import Foundation
import NIOCore
import NIOPosix

/// A listening stream socket (TCP or Unix) whose connections are taken one at a time with
/// `accept`, as in the classic socket/bind/listen/accept sequence. At most `backlog` accepted
/// connections wait to be taken; beyond that the listener stops accepting, and the kernel's
/// own backlog holds the rest.
public final class Listener: @unchecked Sendable {
    public let channel: Channel
    public let transcript: Transcript?
    public let localText: String
    let proto: String
    let backlog: Int
    let cond = NSCondition()
    var queue: [StreamConnection] = []
    var paused = false
    public private(set) var isClosed = false

    init(channel: Channel, proto: String, backlog: Int, transcript: Transcript?) {
        self.channel = channel; self.proto = proto; self.backlog = backlog; self.transcript = transcript
        self.localText = channel.localAddress?.text ?? "?"
    }

    /// Listens on `HOST:PORT` (port 0 picks a free one) or, when the text is a path
    /// (starts with `/` or `./`, or `unix:`), on a Unix stream socket.
    public static func listen(_ address: String, backlog: Int = 128, transcript: Transcript? = nil,
                              timeout: TimeInterval = 10, cancel: CancelCheck? = nil) throws -> Listener {
        let unixPath = Listener.unixPath(address)
        var holder: Listener? = nil
        let lock = NSLock()
        let bootstrap = ServerBootstrap(group: SocketRuntime.group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(max(1, backlog)))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { ch in
                let box = InboundBuffer()
                let handler = InboundHandler(box) { active in
                    lock.lock(); let l = holder; lock.unlock()
                    if let l {
                        l.enqueue(StreamConnection.accepted(channel: active, box: box, proto: unixPath == nil ? "tcp" : "unix", transcript: l.transcript))
                    } else {
                        active.close(promise: nil)
                    }
                }
                do { try ch.pipeline.syncOperations.addHandler(handler) }
                catch { return ch.eventLoop.makeFailedFuture(error) }
                return ch.eventLoop.makeSucceededVoidFuture()
            }
        let deadline = Date().addingTimeInterval(timeout)
        let future: EventLoopFuture<Channel>
        let shown: String
        if let path = unixPath {
            future = bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            shown = path
        } else {
            let ep = try Endpoint(parsing: address)
            let addrs = try HostLookup.resolve(ep, deadline: deadline, cancel: cancel)
            future = bootstrap.bind(to: addrs[0])
            shown = ep.description
        }
        let ch = try SocketRuntime.wait(future, deadline: deadline, cancel: cancel, op: "listen on", address: shown,
                                        onAbandon: { $0.close(promise: nil) })
        let l = Listener(channel: ch, proto: unixPath == nil ? "tcp" : "unix", backlog: max(1, backlog), transcript: transcript)
        lock.lock(); holder = l; lock.unlock()
        transcript?.record(l.proto, .note, "listening on \(l.localText) (backlog \(backlog))")
        return l
    }

    static func unixPath(_ address: String) -> String? { Endpoint.unixPath(address) }

    /// The port actually bound (useful after listening on port 0); nil for Unix sockets.
    public var port: Int? { channel.localAddress?.port }

    func enqueue(_ c: StreamConnection) {
        cond.lock()
        queue.append(c)
        let full = queue.count >= backlog
        if full { paused = true }
        cond.signal()
        cond.unlock()
        if full { channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
    }

    /// The next connection, waiting up to `timeout` seconds.
    public func accept(timeout: TimeInterval = 30, cancel: CancelCheck? = nil) throws -> StreamConnection {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while queue.isEmpty {
            if isClosed { throw SocketError(.closed, "accept on \(localText): the listener is closed", address: localText) }
            if cancel?() == true { throw SocketError(.interrupted, "accept on \(localText): interrupted", address: localText) }
            let now = Date()
            if now >= deadline { throw SocketError(.timeout, "accept on \(localText): no connection within \(Transcript.seconds(timeout))", address: localText) }
            _ = cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
        }
        let c = queue.removeFirst()
        if paused && queue.count < backlog {
            paused = false
            let ch = channel
            ch.eventLoop.execute { ch.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }; ch.read() }
        }
        c.cancel = cancel
        transcript?.record(c.proto, .note, "accepted \(c.peerText) on \(c.localText)")
        return c
    }

    /// Stops listening; connections not yet accepted are closed.
    public func close() {
        cond.lock()
        if isClosed { cond.unlock(); return }
        isClosed = true
        let pending = queue
        queue.removeAll()
        cond.broadcast()
        cond.unlock()
        for c in pending { c.abandon() }
        try? channel.close().wait()
        transcript?.record(proto, .note, "stopped listening on \(localText)")
    }
}

extension Transcript {
    /// "1 s", "0.5 s": a duration for messages.
    public static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? "\(Int(t)) s" : "\(t) s"
    }
}
