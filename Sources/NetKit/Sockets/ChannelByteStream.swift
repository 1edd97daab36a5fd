import Foundation
import NIOCore

extension InboundBuffer {
    /// Moves up to `into.count` unread bytes out (fewer when fewer wait). Lock held.
    func move(into p: UnsafeMutableRawBufferPointer) -> Int {
        let n = Swift.min(p.count, count)
        if n == 0 { return 0 }
        bytes.withUnsafeBytes { src in
            p.baseAddress!.copyMemory(from: src.baseAddress! + start, byteCount: n)
        }
        start += n
        if start == bytes.count { bytes.removeAll(keepingCapacity: bytes.count <= 1 << 20); start = 0 }
        else if start > 1 << 16 && start > bytes.count / 2 { bytes.removeFirst(start); start = 0 }
        return n
    }
}

/// A `ByteStream` over a SwiftNIO channel (plain TCP, TLS, or a Unix socket; a client's or
/// one a listener accepted). The channel's event loop appends what arrives to `box` (through
/// an `InboundHandler`); `readSome` takes from it, waiting on its condition in slices. Reading
/// pauses while a megabyte waits unread, and resumes once the reader has taken half of it.
final class ChannelByteStream: ByteStream, @unchecked Sendable {
    let channel: Channel
    let box: InboundBuffer
    /// TLS waits for the peer's close_notify on close, which many peers never send: then
    /// `close` does not wait.
    let isTLS: Bool
    let localName: String
    let peerName: String
    private var shown: String { peerName.isEmpty ? "(unnamed)" : peerName }

    init(channel: Channel, box: InboundBuffer, tls: Bool) {
        self.channel = channel; self.box = box; self.isTLS = tls
        localName = channel.localAddress?.text ?? ""
        peerName = channel.remoteAddress?.text ?? ""
    }

    func readSome(into buffer: UnsafeMutableRawBufferPointer, deadline: Date) throws -> ByteStreamRead {
        box.cond.lock()
        defer { box.cond.unlock() }
        if box.count == 0 && box.error == nil && !box.eof {
            _ = box.cond.wait(until: min(deadline, Date().addingTimeInterval(0.1)))
        }
        if box.count > 0 {
            let n = box.move(into: buffer)
            resumeIfNeeded()
            return .data(n)
        }
        if let e = box.error { throw SocketError.from(e, op: "recv from", address: shown) }
        return box.eof ? .end : .nothing
    }

    /// Turns reading back on once the reader has taken enough. Lock held.
    private func resumeIfNeeded() {
        guard box.paused && box.count < box.limit / 2 else { return }
        box.paused = false
        let ch = channel
        ch.eventLoop.execute {
            ch.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            ch.read()
        }
    }

    /// Writes in 1 MiB buffers; while more than the channel's high-water mark is pending,
    /// waits until the peer has taken enough. Returns once the last write completed, so the
    /// bytes are with the kernel (as Python's `sendall`).
    func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: Date, cancel: CancelCheck?) throws {
        box.cond.lock()
        if let e = box.error { box.cond.unlock(); throw SocketError.from(e, op: "send to", address: shown) }
        box.cond.unlock()
        if !channel.isActive { throw SocketError(.closed, "send to \(shown): the peer closed the connection", address: shown) }
        var offset = 0
        let chunk = 1 << 20
        var last: EventLoopFuture<Void>? = nil
        repeat {
            let end = min(bytes.count, offset + chunk)
            last = channel.writeAndFlush(channel.allocator.buffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[offset..<end])))
            offset = end
            if !channel.isWritable {
                box.cond.lock()
                defer { box.cond.unlock() }
                while !channel.isWritable {
                    if let e = box.error { throw SocketError.from(e, op: "send to", address: shown) }
                    if !channel.isActive { throw SocketError(.reset, "send to \(shown): the connection was closed while sending", address: shown) }
                    if cancel?() == true { throw SocketError(.interrupted, "send to \(shown): interrupted", address: shown) }
                    let now = Date()
                    if now >= deadline { throw SocketError(.timeout, "send to \(shown): timed out", address: shown) }
                    _ = box.cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
                }
            }
        } while offset < bytes.count
        // Writes complete in order: once the last is written, all of them are with the kernel.
        if let last {
            do {
                _ = try SocketRuntime.wait(last, deadline: deadline, cancel: cancel, op: "send to", address: shown)
            } catch let e as SocketError where e.kind == .timeout || e.kind == .interrupted {
                throw e
            } catch {
                throw SocketError(.reset, "send to \(shown): the connection was closed before the data could be written", address: shown)
            }
        }
    }

    func flush(deadline: Date, cancel: CancelCheck?) throws {
        guard channel.isActive else { return }
        let f = channel.writeAndFlush(channel.allocator.buffer(capacity: 0))
        _ = try SocketRuntime.wait(f, deadline: deadline, cancel: cancel, op: "send to", address: shown)
    }

    func shutdownWrite(deadline: Date, cancel: CancelCheck?) throws {
        let p = channel.eventLoop.makePromise(of: Void.self)
        channel.close(mode: .output, promise: p)
        do {
            try SocketRuntime.wait(p.futureResult, deadline: deadline, cancel: cancel, op: "shutdown", address: shown)
        } catch let e as SocketError where e.kind == .closed {
            return
        }
    }

    func close(deadline: Date) {
        let f = channel.close()
        if !isTLS {
            _ = try? SocketRuntime.wait(f, deadline: deadline, cancel: nil, op: "close", address: shown)
        }
    }

    func abandon() { channel.close(promise: nil) }

    var hasInput: Bool { box.cond.lock(); defer { box.cond.unlock() }; return box.count > 0 || box.eof || box.error != nil }
    var endReached: Bool { box.cond.lock(); defer { box.cond.unlock() }; return box.eof && box.count == 0 }
    var isPeerGone: Bool { !channel.isActive }
    var rawDescriptor: Int32? { nil }

    /// Waits for the TLS handshake (and the identity check after it); a failure reads
    /// "`failing`: reason in plain words".
    func waitForHandshake(deadline: Date, cancel: CancelCheck?, address: String, failing: String, setup: TLSClientSetup?,
                          observer: TLSVerifyObserver?) throws {
        box.cond.lock()
        defer { box.cond.unlock() }
        while !box.tlsReady {
            if let e = box.error {
                channel.close(promise: nil)
                throw SocketError(.tls, "\(failing): \(TLSClientSetup.reason(e, setup: setup, observer: observer))", address: address)
            }
            if box.eof {
                throw SocketError(.tls, "\(failing): the peer closed the connection during the TLS handshake", address: address)
            }
            if cancel?() == true { throw SocketError(.interrupted, "TLS handshake with \(shown): interrupted", address: shown) }
            let now = Date()
            if now >= deadline { throw SocketError(.timeout, "TLS handshake with \(shown): timed out", address: shown) }
            _ = box.cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
        }
    }
}
