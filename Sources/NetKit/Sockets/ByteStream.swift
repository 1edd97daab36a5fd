import Foundation

/// What one read of a `ByteStream` came to.
public enum ByteStreamRead: Equatable, Sendable {
    /// This many bytes were stored at the start of the buffer (at least one).
    case data(Int)
    /// The peer closed its sending side and everything it sent has been read.
    case end
    /// Nothing arrived within one wait slice (at most 100 ms): check Ctrl-C and the deadline,
    /// then read again.
    case nothing
}

/// A connected byte stream as NetKit's blocking clients use it: TCP, TLS over TCP, a Unix
/// stream socket, or an in-memory peer for tests. Every wait is cut into slices of at most
/// 100 ms, so a caller notices its deadline and Ctrl-C promptly.
///
/// Implemented by `DirectSocket` (system calls on the caller's thread: plain TCP and Unix
/// clients), `ChannelByteStream` (a SwiftNIO channel, plain or TLS: accepted connections and
/// TLS clients) and `ScriptedStream` (a scripted peer in memory). `StreamConnection` holds
/// one; the DNS TCP transport, the plain-HTTP path, FTP data connections and `serve echo`
/// use them directly. Failures are `SocketError`s naming `peerName`.
public protocol ByteStream: AnyObject {
    /// Reads what is available into `buffer` (at most `buffer.count` bytes), waiting at most
    /// one slice of 100 ms and never past `deadline`.
    func readSome(into buffer: UnsafeMutableRawBufferPointer, deadline: Date) throws -> ByteStreamRead
    /// Writes every byte by `deadline`; `cancel` is checked between slices of waiting.
    func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: Date, cancel: CancelCheck?) throws
    /// Waits until everything written is with the kernel (a channel queues writes; a socket
    /// written with system calls has nothing to wait for).
    func flush(deadline: Date, cancel: CancelCheck?) throws
    /// Closes the sending side: the peer reads end of stream, and this side keeps reading.
    func shutdownWrite(deadline: Date, cancel: CancelCheck?) throws
    /// Closes, waiting at most until `deadline` for what is queued to go out.
    func close(deadline: Date)
    /// Closes at once, without waiting or flushing.
    func abandon()
    /// Whether bytes or the end of the stream wait to be read (without waiting).
    var hasInput: Bool { get }
    /// Whether the stream is known to have ended: the peer closed and all was read, or the
    /// connection is gone.
    var endReached: Bool { get }
    /// Whether the peer is gone (closed, reset) as far as is known without reading.
    var isPeerGone: Bool { get }
    /// The local and peer addresses as text ("127.0.0.1:5000", "[::1]:21", a socket path);
    /// empty when the stream has none.
    var localName: String { get }
    var peerName: String { get }
    /// The kernel socket under the stream, for zero-copy paths (splice, sendfile) and for
    /// handing a plain socket to TLS (STARTTLS); nil for TLS and in-memory streams, whose
    /// bytes must go through `readSome`/`writeAll`.
    var rawDescriptor: Int32? { get }
}

extension ByteStream {
    /// Reads at least one byte (or the end: 0) into `buffer`, waiting in slices until
    /// `deadline`; throws `timeout` at the deadline and `interrupted` when `cancel` fires.
    /// `op` names the operation in those errors ("recv from").
    public func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Date, cancel: CancelCheck?,
                     op: String = "recv from") throws -> Int {
        while true {
            if cancel?() == true { throw SocketError(.interrupted, "\(op) \(peerName): interrupted", address: peerName) }
            if Date() >= deadline { throw SocketError(.timeout, "\(op) \(peerName): timed out", address: peerName) }
            switch try readSome(into: buffer, deadline: deadline) {
            case .data(let n): return n
            case .end: return 0
            case .nothing: continue
            }
        }
    }

    /// Reads until `buffer` is full; returns how many bytes were read: `buffer.count`, or
    /// fewer when the stream ended first.
    public func readExactly(into buffer: UnsafeMutableRawBufferPointer, deadline: Date, cancel: CancelCheck?,
                            op: String = "recv from") throws -> Int {
        var got = 0
        while got < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[got...]), deadline: deadline, cancel: cancel, op: op)
            if n == 0 { return got }
            got += n
        }
        return got
    }

    /// Writes all of `bytes`.
    public func writeAll(_ bytes: [UInt8], deadline: Date, cancel: CancelCheck?) throws {
        try bytes.withUnsafeBytes { try writeAll($0, deadline: deadline, cancel: cancel) }
    }
}
