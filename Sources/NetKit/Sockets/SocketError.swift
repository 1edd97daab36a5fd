import Foundation
import NIOCore
import NIOPosix

/// A socket failure, named by what a learner can act on: the peer refused, nothing answered in
/// time, the peer reset the connection, the network is unreachable, the connection is closed,
/// the name does not resolve, TLS failed, or some other I/O error. Every message names the address.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    /// The error kinds; the raw value is the kind a script catches.
    public enum Kind: String, Sendable {
        /// `refused`: nothing listens there (ECONNREFUSED, or no such Unix socket). `timeout`: nothing
        /// within the time allowed. `reset`: the peer reset or aborted the connection (also a broken
        /// pipe). `unreachable`: no route to the network or host. `closed`: the connection or socket is
        /// already closed. `resolve`: the host name does not resolve. `tls`: the TLS handshake or the
        /// certificate check failed. `io`: any other failure.
        case refused, timeout, reset, unreachable, closed, resolve, tls, io
        /// A request that cannot be met as given (a datagram over 65,507 bytes, a line over `max`).
        case value
        /// The caller's cancellation check fired (Ctrl-C in the REPL).
        case interrupted
    }
    /// What went wrong, as a kind a caller can switch on.
    public var kind: Kind
    /// A sentence naming the operation and address (`connect 127.0.0.1:7: connection refused`).
    public var message: String
    /// The address the operation concerned ("127.0.0.1:7007", "/tmp/sock").
    public var address: String
    /// The system error number behind the failure, when a system call failed.
    public var code: Int32? = nil

    /// An error of `kind` about `address`.
    public init(_ kind: Kind, _ message: String, address: String) {
        self.kind = kind; self.message = message; self.address = address
    }
    /// The message alone.
    public var description: String { message }

    /// Maps any error a socket operation can raise (errno, NIO, NIOSSL) onto a named kind.
    public static func from(_ error: Error, op: String, address: String) -> SocketError {
        if let e = error as? SocketError { return e }
        if let io = error as? IOError { return fromErrno(io.errnoCode, op: op, address: address) }
        if let c = error as? ChannelError {
            switch c {
            case .connectTimeout: return SocketError(.timeout, "\(op) \(address): timed out", address: address)
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed, .eof:
                return SocketError(.closed, "\(op) \(address): the connection is closed", address: address)
            default: return SocketError(.io, "\(op) \(address): \(c)", address: address)
            }
        }
        let typeName = String(reflecting: type(of: error))
        if typeName.contains("NIOSSL") || typeName.contains("BoringSSL") {
            return SocketError(.tls, "\(op) \(address): TLS failed: \(error)", address: address)
        }
        if error is SocketAddressError {
            return SocketError(.resolve, "\(op) \(address): cannot resolve the name (\(error))", address: address)
        }
        return SocketError(.io, "\(op) \(address): \(error)", address: address)
    }

    /// The error for an errno from operation `op` on `address`: ECONNREFUSED is `refused` (so is
    /// ENOENT for a Unix socket path), ETIMEDOUT `timeout`, ECONNRESET/EPIPE/ECONNABORTED `reset`,
    /// ENETUNREACH/EHOSTUNREACH/EADDRNOTAVAIL/ENETDOWN/EHOSTDOWN `unreachable`, anything else `io`.
    /// The message is `op address: ` and the C library's words for the errno.
    public static func fromErrno(_ code: Int32, op: String, address: String) -> SocketError {
        var text = String(cString: strerror(code)).lowercased()
        if code == EPIPE { text = "the other side closed the connection (broken pipe)" }
        let kind: Kind
        switch code {
        case ECONNREFUSED: kind = .refused
        case ETIMEDOUT: kind = .timeout
        case ECONNRESET, EPIPE, ECONNABORTED: kind = .reset
        case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ENETDOWN, EHOSTDOWN: kind = .unreachable
        case ENOENT where address.hasPrefix("/") || address.hasPrefix("."): kind = .refused
        default: kind = .io
        }
        var e = SocketError(kind, "\(op) \(address): \(text)", address: address)
        e.code = code
        return e
    }
}

/// A check the blocking calls make every 100 ms or less; when it returns true they stop with
/// `SocketError.Kind.interrupted` (the language wires it to Ctrl-C).
public typealias CancelCheck = () -> Bool

/// The event loops every socket in the process shares.
public enum SocketRuntime {
    /// The process-wide event-loop group (NIO's singleton, one loop per CPU core), created on first use.
    public static var group: MultiThreadedEventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    /// Waits for a future from a thread outside the event loop, in slices, honouring a deadline
    /// and a cancellation check. On give-up, `onAbandon` gets the value if it arrives later
    /// (so a late connection is closed, not leaked).
    public static func wait<T>(_ future: EventLoopFuture<T>, deadline: Date, cancel: CancelCheck?,
                               op: String, address: String, onAbandon: ((T) -> Void)? = nil) throws -> T {
        let cond = NSCondition()
        var result: Result<T, Error>? = nil
        var abandoned = false
        future.whenComplete { r in
            cond.lock()
            if abandoned {
                cond.unlock()
                if case .success(let v) = r { onAbandon?(v) }
                return
            }
            result = r
            cond.signal()
            cond.unlock()
        }
        cond.lock()
        defer { cond.unlock() }
        while result == nil {
            if cancel?() == true {
                abandoned = true
                throw SocketError(.interrupted, "\(op) \(address): interrupted", address: address)
            }
            let now = Date()
            if now >= deadline {
                abandoned = true
                throw SocketError(.timeout, "\(op) \(address): timed out", address: address)
            }
            _ = cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
        }
        switch result! {
        case .success(let v): return v
        case .failure(let e): throw SocketError.from(e, op: op, address: address)
        }
    }
}
