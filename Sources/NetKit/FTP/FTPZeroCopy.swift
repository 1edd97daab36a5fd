import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Zero-copy data paths for plain binary transfers: splice(2) from the socket through a pipe
/// into the file on RETR, sendfile(2) from the file to the socket on STOR, so the bytes never
/// pass through our memory. Both honour the socket's 100 ms SO_RCVTIMEO/SO_SNDTIMEO slices,
/// so the idle timeout and Ctrl-C still apply. Where the kernel refuses (a file system without
/// splice, a special file), the callers fall back to read/write.
enum FTPZeroCopy {
    typealias SpliceFn = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int
    /// splice is a GNU extension the Glibc module does not export: found at run time.
    static let splice: SpliceFn? = {
        guard let h = dlopen(nil, RTLD_NOW), let sym = dlsym(h, "splice") else { return nil }
        return unsafeBitCast(sym, to: SpliceFn.self)
    }()
    static let moveMore: UInt32 = 1 | 4  // SPLICE_F_MOVE | SPLICE_F_MORE
    static let chunk = 1 << 20

    /// Moves the socket's bytes into `file` until end of stream. Nil when splice cannot be
    /// used here and nothing was moved (the caller reads and writes instead).
    static func receive(socket: Int32, file: Int32, idle: TimeInterval, cancel: CancelCheck?, what: String, peer: String,
                        progress: (Int64) throws -> Void) throws -> Int64? {
        guard let splice else { return nil }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC); _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        defer { Glibc.close(fds[0]); Glibc.close(fds[1]) }
        _ = fcntl(fds[1], 1031 /* F_SETPIPE_SZ */, Int32(chunk))
        var total: Int64 = 0
        var idleSince = Date()
        while true {
            let n = splice(socket, nil, fds[1], nil, chunk, moveMore)
            if n > 0 {
                var left = n
                while left > 0 {
                    let m = SysCall.retryingSignals { splice(fds[0], nil, file, nil, left, 1) }
                    if m > 0 { left -= m; continue }
                    if m < 0 && errno == EINVAL && total == 0 {
                        // The file cannot take a splice: copy what is in the pipe and say so.
                        var buf = [UInt8](repeating: 0, count: left)
                        let r = Glibc.read(fds[0], &buf, left)
                        if r > 0 { try buf.withUnsafeBytes { try FTPClient.writeAll(file, UnsafeRawBufferPointer(rebasing: $0[0..<r]), local: "the file", what: what) } }
                        total += Int64(max(0, r))
                        throw Fallback(moved: total)
                    }
                    throw FTPError(.io, "\(what): writing the file: \(String(cString: strerror(errno)))", partialBytes: total)
                }
                total += Int64(n)
                idleSince = Date()
                if cancel?() == true { throw FTPError(.interrupted, "\(what): interrupted", partialBytes: total) }
                try progress(total)
                continue
            }
            if n == 0 { return total }
            let e = errno
            if e == EINVAL && total == 0 { return nil }
            try stalled(e, total: total, idleSince: idleSince, idle: idle, cancel: cancel, what: what,
                        idleText: "no data for \(Transcript.seconds(idle)) on the data connection from \(peer)",
                        op: "\(what): reading the data connection from", peer: peer)
        }
    }

    /// Thrown when splice worked from the socket but not into the file, after `moved` bytes.
    struct Fallback: Error { let moved: Int64 }

    /// Sends the file from its current offset to its end. Nil when sendfile cannot be used
    /// here and nothing was sent.
    static func send(file: Int32, socket: Int32, idle: TimeInterval, cancel: CancelCheck?, what: String, peer: String,
                     progress: (Int64) -> Void) throws -> Int64? {
        var total: Int64 = 0
        var idleSince = Date()
        // Bulk data: let the kernel fill full segments (the control connection keeps NODELAY).
        var zero: Int32 = 0
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &zero, socklen_t(MemoryLayout<Int32>.size))
        while true {
            let n = sendfile(socket, file, nil, 8 * chunk)
            if n > 0 {
                total += Int64(n)
                idleSince = Date()
                if cancel?() == true { throw FTPError(.interrupted, "\(what): interrupted", partialBytes: total) }
                progress(total)
                continue
            }
            if n == 0 { return total }
            let e = errno
            if (e == EINVAL || e == ENOSYS) && total == 0 { return nil }
            try stalled(e, total: total, idleSince: idleSince, idle: idle, cancel: cancel, what: what,
                        idleText: "the server took no data for \(Transcript.seconds(idle))",
                        op: "\(what): writing the data connection to", peer: peer)
        }
    }

    /// After a splice or sendfile that moved nothing and failed with `e`: returns to try again
    /// when the socket was not ready or a signal came, and throws when Ctrl-C was pressed, the
    /// data connection has been idle for `idle` seconds, or the socket failed.
    static func stalled(_ e: Int32, total: Int64, idleSince: Date, idle: TimeInterval, cancel: CancelCheck?,
                        what: String, idleText: String, op: String, peer: String) throws {
        if SysCall.isTransient(e) {
            if cancel?() == true { throw FTPError(.interrupted, "\(what): interrupted", partialBytes: total) }
            if Date().timeIntervalSince(idleSince) >= idle { throw FTPError(.timeout, "\(what): \(idleText)", partialBytes: total) }
            return
        }
        let se = SocketError.fromErrno(e, op: op, address: peer)
        throw FTPError(FTPError.Kind(rawValue: se.kind.rawValue) ?? .io, se.message, partialBytes: total)
    }
}
