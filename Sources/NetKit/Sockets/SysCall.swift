import Foundation

/// The one place NetKit's direct system calls meet signals and non-blocking sockets: an
/// interrupted call (`EINTR`, which Ctrl-C causes on purpose, since the handler is installed
/// without `SA_RESTART`) and a socket that is not ready (`EAGAIN`/`EWOULDBLOCK`) are told
/// apart from real failures here, and a wait in 100 ms slices notices Ctrl-C and deadlines.
/// The socket, DNS, HTTP and FTP transports and the front end's file writes all go through it.
public enum SysCall {
    /// What a read- or write-like call (a count, or -1 and errno) came to.
    public enum Outcome: Equatable {
        /// The call moved this many bytes (0 from a read: the end of the stream).
        case done(Int)
        /// Interrupted by a signal, or the socket was not ready: check Ctrl-C and the deadline,
        /// wait if need be, and call again.
        case again
        /// The call failed with this errno.
        case failed(Int32)
    }

    /// Runs one call and classifies its result.
    @inline(__always)
    public static func attempt(_ call: () -> Int) -> Outcome {
        let n = call()
        if n >= 0 { return .done(n) }
        let e = errno
        return isTransient(e) ? .again : .failed(e)
    }

    /// Whether an errno means "call again": a signal came, or a non-blocking socket was not ready.
    @inline(__always)
    public static func isTransient(_ e: Int32) -> Bool { e == EINTR || e == EAGAIN || e == EWOULDBLOCK }

    /// Runs a call again while a signal interrupts it: for files, pipes and locks, which are
    /// never "not ready". The result is the call's own (-1 with errno on a real failure).
    @inline(__always)
    public static func retryingSignals<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let n = call()
            if n >= 0 || errno != EINTR { return n }
        }
    }

    /// Writes every byte to a file or pipe; nil when all were written, else the failure's errno.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var off = 0
        while off < bytes.count {
            let n = retryingSignals { Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off) }
            if n <= 0 { return n < 0 ? errno : EIO }
            off += n
        }
        return nil
    }

    /// What a wait for a socket came to.
    public enum Readiness: Equatable { case ready, timedOut, cancelled, failed(Int32) }

    /// Waits until `fd` is ready for `events` (POLLIN, POLLOUT), in slices of at most 100 ms so
    /// that Ctrl-C (`cancel`) is noticed while waiting, until `deadline`.
    public static func wait(_ fd: Int32, for events: Int16, until deadline: Date, cancel: () -> Bool) -> Readiness {
        while true {
            if cancel() { return .cancelled }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return .timedOut }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = Glibc.poll(&p, 1, Int32(min(100, max(1, left * 1000))))
            if rc > 0 { return .ready }
            if rc < 0 && errno != EINTR { return .failed(errno) }
        }
    }
}
