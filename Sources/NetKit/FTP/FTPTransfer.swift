import Foundation
import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// What one transfer moved.
public struct FTPTransferResult: Sendable {
    /// Bytes moved over the data connection by this transfer (not counting `offset`); 0 when a
    /// resumed download or upload was already complete and nothing was sent.
    public var bytes: Int64
    /// Where the transfer started (non-zero after a resume with REST).
    public var offset: Int64
    /// Wall-clock seconds from setting up the data connection and sending the transfer command to
    /// the server's final reply; 0 when nothing was transferred.
    public var seconds: Double
    /// The server's final reply on the control connection (226 or 250 after a completed transfer);
    /// nil when no transfer command was sent because there was nothing left to move.
    public var reply: FTPReply?
}

/// Called as a transfer goes: bytes done so far (resume offset included) and the total when known.
public typealias FTPProgress = (_ done: Int64, _ total: Int64?) -> Void

/// A data connection being set up: passive ones are connected before the command is sent,
/// active ones are accepted after the server's 1xx reply.
enum FTPPendingData {
    case connected(StreamConnection)
    case listening(Listener)
}

extension FTPClient {
    static let chunk = 1 << 20
    /// The largest listing or text read whole: 64 MiB of lines (about 650,000 entries) costs
    /// about 120 MB once split into strings, well under 1 GB (256 MiB cost 498 MB).
    static let maxListing = 64 << 20

    // MARK: setting up a data connection

    var peerHost: String {
        let p = control.peerText
        if p.hasPrefix("["), let end = p.firstIndex(of: "]") { return String(p[p.index(after: p.startIndex)..<end]) }
        return String(p.split(separator: ":").first ?? Substring(host))
    }
    var localHost: String {
        let p = control.localText
        if p.hasPrefix("["), let end = p.firstIndex(of: "]") { return String(p[p.index(after: p.startIndex)..<end]) }
        return String(p.split(separator: ":").first ?? "127.0.0.1")
    }

    /// The TLS settings for a data connection: the control connection's (same name verified).
    var dataTLS: TLSOptions? { protectData ? options.tlsOptions : nil }

    func openData(doing what: String) throws -> FTPPendingData {
        if options.passive { return .connected(try openPassive(doing: what)) }
        return .listening(try openActive(doing: what))
    }

    func openPassive(doing what: String) throws -> StreamConnection {
        var target: String? = nil
        if !epsvFailed {
            let r = try command("EPSV", doing: "\(what): EPSV")
            if r.code == 229, let port = FTPClient.epsvPort(r.text) {
                target = Endpoint(host: peerHost, port: port).description
            } else if r.kind == 5 {
                epsvFailed = true
            } else {
                throw FTPError.unexpected(r, doing: "\(what): EPSV")
            }
        }
        if target == nil {
            let r = try command("PASV", doing: "\(what): PASV")
            guard r.code == 227, let (ip, port) = FTPClient.pasvAddress(r.text) else {
                throw FTPError.unexpected(r, doing: "\(what): PASV")
            }
            let h = options.trustPasv ? ip : peerHost
            if !options.trustPasv && ip != peerHost {
                transcript?.record("ftp", .note, "PASV named \(ip); using the control connection's peer \(peerHost) instead (trust_pasv: true uses it)")
            }
            target = Endpoint(host: h, port: port).description
        }
        do {
            // Always plain here: a server starts TLS on the data connection only after the
            // transfer command, so the handshake waits until its 1xx reply (startTransfer).
            return try StreamConnection.connect(target!, timeout: options.timeout, tls: nil, transcript: nil, cancel: cancel)
        } catch {
            let e = FTPError.from(error, doing: "\(what): the data connection to \(target!)")
            transcript?.record("ftp", .note, "data connection to \(target!) failed: \(e.message)")
            throw e
        }
    }

    func openActive(doing what: String) throws -> Listener {
        let local = localHost
        let l: Listener
        do { l = try Listener.listen(Endpoint(host: local, port: 0).description, backlog: 1, transcript: nil, timeout: options.timeout, cancel: cancel) }
        catch { throw FTPError.from(error, doing: "\(what): listening for the data connection") }
        let port = l.port ?? 0
        let v6 = local.contains(":")
        do {
            var done = false
            if !eprtFailed {
                let r = try command("EPRT |\(v6 ? 2 : 1)|\(local)|\(port)|", doing: "\(what): EPRT")
                if r.kind == 2 { done = true }
                else if r.kind == 5 && !v6 { eprtFailed = true }
                else { throw FTPError.unexpected(r, doing: "\(what): EPRT") }
            }
            if !done {
                let h = local.split(separator: ".").joined(separator: ",")
                try expect("PORT \(h),\(port >> 8),\(port & 255)", doing: "\(what): PORT")
            }
        } catch { l.close(); throw error }
        return l
    }

    /// The port in `229 Entering Extended Passive Mode (|||6446|)`.
    static func epsvPort(_ text: String) -> Int? {
        guard let open = text.firstIndex(of: "("), let close = text[open...].firstIndex(of: ")") else { return nil }
        let inner = Array(text[text.index(after: open)..<close])
        guard inner.count >= 5, let d = inner.first else { return nil }
        let parts = String(inner).split(separator: d, omittingEmptySubsequences: false)
        guard parts.count == 5, let p = Int(parts[3]), (1...65535).contains(p) else { return nil }
        return p
    }

    /// The address in `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`.
    static func pasvAddress(_ text: String) -> (String, Int)? {
        let digits = text.drop { !$0.isNumber }
        let nums = digits.split(whereSeparator: { !$0.isNumber }).prefix(6).compactMap { Int($0) }
        guard nums.count == 6, nums.allSatisfy({ (0...255).contains($0) }) else { return nil }
        let port = nums[4] * 256 + nums[5]
        guard port > 0 else { return nil }
        return ("\(nums[0]).\(nums[1]).\(nums[2]).\(nums[3])", port)
    }

    /// Sends the transfer command and returns the data connection once the server has said
    /// 125/150. A refusal closes the pending connection and raises by its code.
    func startTransfer(_ line: String, doing what: String) throws -> (StreamConnection, FTPReply) {
        let pending = try openData(doing: what)
        let r: FTPReply
        do {
            r = try command(line, doing: what)
        } catch {
            close(pending)
            throw error
        }
        guard r.kind == 1 else {
            close(pending)
            throw FTPError.unexpected(r, doing: what)
        }
        switch pending {
        case .connected(let c):
            guard let tls = dataTLS else { return (c, r) }
            do { return (try c.startTLS(tls, host: host, timeout: options.timeout), r) }
            catch {
                let e = FTPError.from(error, doing: "\(what): TLS on the data connection")
                _ = try? finishAfterFailure(doing: what)
                throw e
            }
        case .listening(let l):
            defer { l.close() }
            do {
                let c = try l.accept(timeout: options.timeout, cancel: cancel)
                guard let tls = dataTLS else { return (c, r) }
                return (try clientTLS(on: c, tls), r)
            } catch {
                let e = FTPError.from(error, doing: "\(what): waiting for the server's data connection on \(l.localText)")
                _ = try? finishAfterFailure(doing: what)
                throw e
            }
        }
    }

    /// TLS on a data connection the server opened to us (active mode): we are still the TLS
    /// client (RFC 4217 §9), so a client handler goes in front of the accepted stream.
    func clientTLS(on c: StreamConnection, _ tls: TLSOptions) throws -> StreamConnection {
        guard let ch = c.channel else { return c }
        let deadline = Date().addingTimeInterval(options.timeout)
        let shown = "TLS on the data connection from \(c.peerText)"
        let setup = try StreamConnection.tlsSetup(tls, host: host, shownPeer: c.peerText, failing: shown, address: c.peerText)
        let ctx = try StreamConnection.tlsContext(setup, failing: shown, address: c.peerText)
        let made = try setup.makeHandlers(context: ctx)
        let added = ch.eventLoop.submit { try ch.pipeline.syncOperations.addHandlers(made.handlers, position: .first) }
        try SocketRuntime.wait(added, deadline: deadline, cancel: cancel, op: shown, address: c.peerText)
        let t = StreamConnection(channel: ch, box: c.box, proto: "tls", serverSide: false, transcript: nil, cancel: cancel)
        try t.waitForHandshake(deadline: deadline, address: c.peerText, failing: "\(shown) failed", setup: setup, observer: made.observer)
        return t
    }

    func close(_ p: FTPPendingData) {
        switch p {
        case .connected(let c): c.abandon()
        case .listening(let l): l.close()
        }
    }

    /// The final reply after the data connection closed (226/250 expected).
    func finish(doing what: String) throws -> FTPReply {
        let r = try readReply(doing: what)
        guard r.kind == 2 else { throw FTPError.unexpected(r, doing: what) }
        return r
    }

    /// After a failed data transfer: reads the server's reply if one comes soon (426, 451…),
    /// so the session stays in step. Returns it, or nil if none came.
    func finishAfterFailure(doing what: String) throws -> FTPReply? {
        do {
            let line = try control.recvUntil([0x0A], max: FTPReplyParser.maxLine, timeout: min(options.timeout, 5), what: "reply")
            guard var d = line else { return nil }
            if d.last == 0x0A { d.removeLast() }
            if d.last == 0x0D { d.removeLast() }
            let first = String(decoding: d, as: UTF8.self)
            var used = false
            let r = try FTPReplyParser.read(shown: what) {
                if !used { used = true; return first }
                return try readLine(doing: what)
            }
            transcript?.record("ftp", .server, r.description, peer: controlPeer)
            lastReply = r
            return r
        } catch { return nil }
    }

    func noteData(_ c: StreamConnection, bytes: Int64, start: Date, what: String) {
        let t = Date().timeIntervalSince(start)
        let rate = t > 0 ? Double(bytes) / t / 1_048_576 : 0
        if c.isReplayed {
            // No timing from a replay: the same lines every run.
            transcript?.record("ftp", .note, "data connection \(c.localText) → \(c.peerText) (\(what)): \(bytes) bytes (replayed)", peer: c.peerText)
            return
        }
        transcript?.record("ftp", .note, String(format: "data connection %@ → %@ (%@): %lld bytes in %.3f s (%.1f MiB/s)",
                                                c.localText, c.peerText, what, bytes, t, rate), peer: c.peerText)
    }

    // MARK: reading a data connection

    /// Reads the data connection to its end, handing each chunk to `sink`: from its byte
    /// stream (plain TCP: `recv` calls; TLS: the channel's bytes) into one reused buffer. The
    /// transfer fails when no byte came for the session's timeout.
    func drain(_ c: StreamConnection, doing what: String, sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        var total: Int64 = 0
        if c.isWireObserved {
            // Recorded or replayed: through the connection's own reads, which the recording sees.
            while true {
                let data: [UInt8]?
                do { data = try c.recv(max: FTPClient.chunk, timeout: options.timeout) }
                catch {
                    var e = FTPError.from(error, doing: "\(what): reading the data connection")
                    e.partialBytes = total
                    throw e
                }
                guard let data else { return total }
                try data.withUnsafeBytes { try sink($0) }
                total += Int64(data.count)
            }
        }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: FTPClient.chunk, alignment: 16)
        defer { buf.deallocate() }
        let stream = c.stream
        var idleSince = Date()
        while true {
            let got: ByteStreamRead
            do { got = try stream.readSome(into: buf, deadline: idleSince.addingTimeInterval(options.timeout)) }
            catch let se as SocketError where se.code != nil {
                let e = SocketError.fromErrno(se.code!, op: "\(what): reading the data connection from", address: c.peerText)
                throw FTPError(FTPError.Kind(rawValue: e.kind.rawValue) ?? .io, e.message, partialBytes: total)
            } catch {
                var e = FTPError.from(error, doing: "\(what): reading the data connection")
                e.partialBytes = total
                throw e
            }
            switch got {
            case .end: return total
            case .data(let n):
                if cancel?() == true { throw FTPError(.interrupted, "\(what): interrupted", partialBytes: total) }
                try sink(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
                total += Int64(n)
                idleSince = Date()
            case .nothing:
                if cancel?() == true { throw FTPError(.interrupted, "\(what): interrupted", partialBytes: total) }
                if Date().timeIntervalSince(idleSince) >= options.timeout {
                    throw FTPError(.timeout, "\(what): no data for \(Transcript.seconds(options.timeout)) on the data connection from \(c.peerText)", partialBytes: total)
                }
            }
        }
    }

    /// Writes to the data connection from `source` (which fills the buffer, 0 at the end),
    /// through its byte stream; fails when the server took nothing for the session's timeout.
    func pump(_ c: StreamConnection, doing what: String, source: (UnsafeMutableRawPointer, Int) throws -> Int) throws -> Int64 {
        var total: Int64 = 0
        let buf = UnsafeMutableRawPointer.allocate(byteCount: FTPClient.chunk, alignment: 16)
        defer { buf.deallocate() }
        let stream = c.stream
        let piece = 1 << 18
        while true {
            let n = try source(buf, FTPClient.chunk)
            if n == 0 { return total }
            if cancel?() == true { throw FTPError(.interrupted, "\(what): interrupted", partialBytes: total) }
            do {
                if c.isWireObserved {
                    // Recorded or replayed: through the connection's own sends, which the recording sees.
                    try c.send(Array(UnsafeRawBufferPointer(start: buf, count: n)), timeout: options.timeout)
                    total += Int64(n)
                    continue
                }
                // In pieces, each with the idle timeout: a slow server that keeps taking data is not cut off.
                var off = 0
                while off < n {
                    let k = min(piece, n - off)
                    do { try stream.writeAll(UnsafeRawBufferPointer(start: buf + off, count: k), deadline: Date().addingTimeInterval(options.timeout), cancel: cancel) }
                    catch let e as SocketError where e.kind == .timeout {
                        throw FTPError(.timeout, "\(what): the server took no data for \(Transcript.seconds(options.timeout))")
                    } catch let e as SocketError where e.kind == .interrupted {
                        throw FTPError(.interrupted, "\(what): interrupted")
                    } catch let e as SocketError where e.code != nil {
                        throw SocketError.fromErrno(e.code!, op: "\(what): writing the data connection to", address: c.peerText)
                    }
                    off += k
                }
            } catch {
                var e = FTPError.from(error, doing: what)
                e.partialBytes = total
                throw e
            }
            total += Int64(n)
        }
    }

    // MARK: transfers

    /// RETR into a local file, streamed in constant memory. `resume` continues a partial
    /// local file with REST; `ascii` uses TYPE A and turns CR LF into LF.
    ///
    /// Nothing local is lost: without `resume` the bytes go to a temporary file beside the
    /// target, renamed over it only when the transfer is complete. A refused RETR (no such
    /// file, a directory) leaves nothing behind and the target as it was; a transfer cut short
    /// keeps its partial file under the target's name only when there was no file there before
    /// (so `resume: true` can continue it), and otherwise leaves the old file untouched.
    /// `maxBytes` bounds the file (an endless stream otherwise never ends): past it the transfer
    /// stops with a `value` error, and what was written is removed as for any failure.
    public func retrieve(_ remote: String, to local: String, resume: Bool = false, ascii: Bool = false,
                         maxBytes: Int64? = nil, progress: FTPProgress? = nil) throws -> FTPTransferResult {
        let what = "ftp.get \(remote)"
        try FTPClient.checkArgument(remote, what: what)
        var isDir: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: local, isDirectory: &isDir)
        if existed && isDir.boolValue { throw FTPError(.io, "\(what): cannot write \(local): it is a directory") }
        var offset: Int64 = 0
        if resume, !ascii, let attrs = try? FileManager.default.attributesOfItem(atPath: local),
           let s = (attrs[.size] as? NSNumber)?.int64Value {
            offset = s
        }
        try setType(ascii ? "A" : "I")
        let total = try? size(remote)
        try setType(ascii ? "A" : "I")
        if offset > 0, let t = total, offset >= t {
            transcript?.record("ftp", .note, "\(local) already has all \(t) bytes of \(remote)")
            return FTPTransferResult(bytes: 0, offset: offset, seconds: 0, reply: nil)
        }
        if offset > 0 { try expect("REST \(offset)", 350...350, doing: "\(what): REST \(offset)") }
        // Resuming appends to the file itself; otherwise a temporary file beside it (the same
        // file system, so the rename is atomic), which device files and FIFOs do not need.
        let special = existed && !FileManager.default.isWritableRegularOrAbsent(local)
        let temp = offset > 0 || special ? local : FTPClient.temporaryPath(beside: local)
        // Positioned with lseek rather than O_APPEND, which splice(2) refuses.
        let fd = open(temp, O_WRONLY | O_CREAT | O_CLOEXEC | (offset > 0 ? 0 : O_TRUNC) | (temp == local ? 0 : O_EXCL), 0o644)
        guard fd >= 0 else {
            throw FTPError(.io, "\(what): cannot write \(temp == local ? local : "beside " + local): \(String(cString: strerror(errno)))")
        }
        var closed = false
        defer { if !closed { Glibc.close(fd) } }
        if offset > 0 { lseek(fd, off_t(offset), SEEK_SET) }
        /// After a failure: what became of the local file, for the error message.
        var overMax = false
        func checkMax(_ size: Int64) throws {
            guard let m = maxBytes, size > m else { return }
            overMax = true
            throw FTPError(.value, "\(what): more than max: \(m) bytes; stopped", partialBytes: size - offset)
        }
        func settle(partial: Int64) -> String {
            guard temp != local else { return "; the partial file \(local) has \(offset + partial) bytes (resume: true continues it)" }
            Glibc.close(fd); closed = true
            if partial > 0 && !existed && !overMax && Glibc.rename(temp, local) == 0 {
                return "; the partial file \(local) has \(partial) bytes (resume: true continues it)"
            }
            unlink(temp)
            return existed ? "; \(local) was left as it was" : "; nothing was written"
        }
        let start = Date()
        let c: StreamConnection
        do { (c, _) = try startTransfer("RETR \(remote)", doing: what) } catch var e as FTPError {
            let note = settle(partial: 0)
            if temp != local { e.message += note }
            throw e
        } catch {
            _ = settle(partial: 0)
            throw error
        }
        var done = offset
        var lastCR = false
        var conv = [UInt8]()
        var got: Int64 = 0
        do {
            var finished = false
            if !ascii, !c.isWireObserved, let socket = c.stream.rawDescriptor {
                do {
                    if let moved = try FTPZeroCopy.receive(socket: socket, file: fd, idle: options.timeout, cancel: cancel, what: what,
                                                           peer: c.peerText, progress: { try checkMax(offset + $0); progress?(offset + $0, total) }) {
                        got = moved
                        finished = true
                    }
                } catch let f as FTPZeroCopy.Fallback {
                    got = f.moved
                }
                done = offset + got
            }
            if !finished { got += try drain(c, doing: what) { chunk in
                if ascii {
                    // CR LF → LF; a CR at the end of a chunk waits to see what follows.
                    conv.removeAll(keepingCapacity: true)
                    for b in chunk {
                        if lastCR && b != 0x0A { conv.append(0x0D) }
                        lastCR = b == 0x0D
                        if !lastCR { conv.append(b) }
                    }
                    try conv.withUnsafeBytes { try FTPClient.writeAll(fd, $0, local: local, what: what) }
                } else {
                    try FTPClient.writeAll(fd, chunk, local: local, what: what)
                }
                done += Int64(chunk.count)
                try checkMax(done)
                progress?(done, total)
            } }
            if lastCR { try [UInt8(0x0D)].withUnsafeBytes { try FTPClient.writeAll(fd, $0, local: local, what: what) } }
        } catch var e as FTPError {
            c.abandon()
            noteData(c, bytes: e.partialBytes ?? 0, start: start, what: "RETR, cut short")
            let have = offset + (e.partialBytes ?? 0)
            if let r = try finishAfterFailure(doing: what), r.kind >= 4, !overMax {
                e = FTPError.unexpected(r, doing: what)
            }
            e.partialBytes = have
            e.message += settle(partial: e.partialBytes.map { $0 - offset } ?? 0)
            throw e
        } catch {
            c.abandon()
            _ = settle(partial: 0)
            throw error
        }
        c.close()
        noteData(c, bytes: got, start: start, what: "RETR \(remote)")
        var r: FTPReply
        do { r = try finish(doing: what) }
        catch var e as FTPError {
            e.partialBytes = offset + got
            e.message += settle(partial: got)
            throw e
        }
        _ = r
        if !ascii, let t = total, offset + got < t {
            throw FTPError(.closed, "\(what): the transfer ended after \(offset + got) of \(t) bytes" + settle(partial: got),
                           reply: r, partialBytes: offset + got)
        }
        if temp != local {
            Glibc.close(fd); closed = true
            guard Glibc.rename(temp, local) == 0 else {
                let why = String(cString: strerror(errno))
                unlink(temp)
                throw FTPError(.io, "\(what): cannot rename the finished download to \(local): \(why)")
            }
        }
        r = lastReply ?? r
        return FTPTransferResult(bytes: got, offset: offset, seconds: Date().timeIntervalSince(start), reply: r)
    }

    /// A new file name beside `path` (same directory, so a rename replaces it atomically).
    static func temporaryPath(beside path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let name = ".\(base).part-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        return dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
    }

    static func writeAll(_ fd: Int32, _ p: UnsafeRawBufferPointer, local: String, what: String) throws {
        if let e = SysCall.writeAll(fd, p) {
            throw FTPError(.io, "\(what): writing \(local): \(String(cString: strerror(e)))")
        }
    }

    /// STOR (or APPE with `append`) from a local file, streamed in constant memory. `resume`
    /// asks the server's SIZE and sends the rest with REST; `ascii` uses TYPE A (LF → CR LF).
    public func store(_ local: String, to remote: String, append: Bool = false, resume: Bool = false, ascii: Bool = false,
                      progress: FTPProgress? = nil) throws -> FTPTransferResult {
        let verb = append ? "APPE" : "STOR"
        let what = "ftp.\(append ? "append" : "put") \(remote)"
        try FTPClient.checkArgument(remote, what: what)
        let fd = open(local, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FTPError(.io, "\(what): cannot read \(local): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        var st = stat()
        fstat(fd, &st)
        let total = Int64(st.st_size)
        try setType(ascii ? "A" : "I")
        var offset: Int64 = 0
        if resume && !ascii {
            if let s = try? size(remote) { offset = min(s, total) }
            if offset > 0 {
                if offset == total { return FTPTransferResult(bytes: 0, offset: offset, seconds: 0, reply: nil) }
                try expect("REST \(offset)", 350...350, doing: "\(what): REST \(offset)")
                lseek(fd, off_t(offset), SEEK_SET)
            }
        }
        let start = Date()
        let (c, _) = try startTransfer("\(verb) \(remote)", doing: what)
        var done = offset
        var pendingLF = false
        var sent: Int64 = 0
        do {
            if !ascii, !c.isWireObserved, let socket = c.stream.rawDescriptor,
               let n = try FTPZeroCopy.send(file: fd, socket: socket, idle: options.timeout, cancel: cancel, what: what, peer: c.peerText,
                                            progress: { progress?(offset + $0, total) }) {
                sent = n
            } else { sent = try pump(c, doing: what) { buf, cap in
                if !ascii {
                    let n = SysCall.retryingSignals { Glibc.read(fd, buf, cap) }
                    if n < 0 { throw FTPError(.io, "\(what): reading \(local): \(String(cString: strerror(errno)))") }
                    done += Int64(n)
                    if n > 0 { progress?(done, total) }
                    return n
                }
                // ASCII: read at most half, so LF → CR LF always fits.
                var out = 0
                let p = buf.assumingMemoryBound(to: UInt8.self)
                if pendingLF { p[0] = 0x0A; out = 1; pendingLF = false }
                let tmp = UnsafeMutablePointer<UInt8>.allocate(capacity: cap / 2)
                defer { tmp.deallocate() }
                let n = Glibc.read(fd, tmp, cap / 2 - 1)
                if n < 0 { throw FTPError(.io, "\(what): reading \(local): \(String(cString: strerror(errno)))") }
                var prev: UInt8 = 0
                for i in 0..<max(0, n) {
                    let b = tmp[i]
                    if b == 0x0A && prev != 0x0D { p[out] = 0x0D; out += 1 }
                    p[out] = b; out += 1
                    prev = b
                }
                done += Int64(max(0, n))
                if n > 0 { progress?(done, total) }
                return out
            } }
        } catch var e as FTPError {
            c.abandon()
            noteData(c, bytes: e.partialBytes ?? 0, start: start, what: "\(verb), cut short")
            if let r = try finishAfterFailure(doing: what), r.kind >= 4 {
                let sentBytes = e.partialBytes
                e = FTPError.unexpected(r, doing: what)
                e.partialBytes = sentBytes
            }
            // What reached the server, asked with SIZE where it can answer: bytes written to the
            // socket may never have left its buffers.
            let written = offset + (e.partialBytes ?? 0)
            if !isClosed, !ascii, let have = try? size(remote) {
                e.partialBytes = have
                e.message += "; the server has \(have) of \(total) bytes (resume: true continues)"
            } else {
                e.partialBytes = written
                e.message += "; \(written) of \(total) bytes were written to the data connection, the server may have fewer"
            }
            throw e
        }
        c.close()
        noteData(c, bytes: sent, start: start, what: "\(verb) \(remote)")
        let r = try finish(doing: what)
        return FTPTransferResult(bytes: sent, offset: offset, seconds: Date().timeIntervalSince(start), reply: r)
    }

    /// Uploads bytes held in memory (`storlines`: text in TYPE A, LF → CR LF).
    public func storeBytes(_ data: [UInt8], to remote: String, ascii: Bool) throws -> FTPTransferResult {
        let what = "ftp.storlines \(remote)"
        try FTPClient.checkArgument(remote, what: what)
        try setType(ascii ? "A" : "I")
        var out: [UInt8] = []
        if ascii {
            out.reserveCapacity(data.count + data.count / 16)
            var prev: UInt8 = 0
            for b in data { if b == 0x0A && prev != 0x0D { out.append(0x0D) }; out.append(b); prev = b }
        } else { out = data }
        let start = Date()
        let (c, _) = try startTransfer("STOR \(remote)", doing: what)
        var off = 0
        let sent: Int64
        do {
            sent = try pump(c, doing: what) { buf, cap in
                let n = min(cap, out.count - off)
                out.withUnsafeBytes { buf.copyMemory(from: $0.baseAddress! + off, byteCount: n) }
                off += n
                return n
            }
        } catch let e as FTPError {
            c.abandon()
            if let r = try finishAfterFailure(doing: what), r.kind >= 4 { throw FTPError.unexpected(r, doing: what) }
            throw e
        }
        c.close()
        noteData(c, bytes: sent, start: start, what: "STOR \(remote)")
        let r = try finish(doing: what)
        return FTPTransferResult(bytes: sent, offset: 0, seconds: Date().timeIntervalSince(start), reply: r)
    }

    /// Reads a listing or a text file whole over a data connection (bounded), in TYPE A or I.
    func fetchText(_ line: String, ascii: Bool, doing what: String) throws -> [UInt8] {
        try setType(ascii ? "A" : "I")
        let start = Date()
        let (c, _) = try startTransfer(line, doing: what)
        var data: [UInt8] = []
        let got: Int64
        do {
            got = try drain(c, doing: what) { chunk in
                if data.count + chunk.count > FTPClient.maxListing {
                    throw FTPError(.value, "\(what): more than \(FTPClient.maxListing) bytes; use ftp.get for big files")
                }
                data.append(contentsOf: chunk)
            }
        } catch let e as FTPError {
            c.abandon()
            // Our own limit stays the error; the server's 426 for the abandoned transfer is read.
            if let r = try finishAfterFailure(doing: what), r.kind >= 4, e.kind != .value { throw FTPError.unexpected(r, doing: what) }
            throw e
        }
        c.close()
        noteData(c, bytes: got, start: start, what: line)
        _ = try finish(doing: what)
        return data
    }

    static func splitLines(_ data: [UInt8]) -> [String] {
        var out: [String] = []
        data.withUnsafeBufferPointer { p in
            var start = 0
            let n = p.count
            while start < n {
                var end = start
                while end < n && p[end] != 0x0A { end += 1 }
                var stop = end
                if stop > start && p[stop - 1] == 0x0D { stop -= 1 }
                out.append(String(decoding: UnsafeBufferPointer(rebasing: p[start..<stop]), as: UTF8.self))
                start = end + 1
            }
        }
        return out
    }

    /// LIST: the server's lines as they are.
    public func list(_ path: String? = nil) throws -> [String] {
        let what = "ftp.dir\(path.map { " " + $0 } ?? "")"
        return FTPClient.splitLines(try fetchText(path.map { "LIST \($0)" } ?? "LIST", ascii: true, doing: what))
    }

    /// NLST: names only.
    public func nlst(_ path: String? = nil) throws -> [String] {
        let what = "ftp.ls\(path.map { " " + $0 } ?? "")"
        return FTPClient.splitLines(try fetchText(path.map { "NLST \($0)" } ?? "NLST", ascii: true, doing: what))
    }

    /// MLSD: entries with their facts (RFC 3659).
    public func mlsd(_ path: String? = nil) throws -> [FTPEntry] {
        let what = "ftp.mlsd\(path.map { " " + $0 } ?? "")"
        return FTPClient.splitLines(try fetchText(path.map { "MLSD \($0)" } ?? "MLSD", ascii: true, doing: what))
            .compactMap { FTPEntry.parse(mlsd: $0) }
    }

    /// RETR in TYPE A, as lines (CR LF removed).
    public func retrlines(_ remote: String) throws -> [String] {
        FTPClient.splitLines(try fetchText("RETR \(remote)", ascii: true, doing: "ftp.retrlines \(remote)"))
    }
}

extension FileManager {
    /// Whether `path` is a regular file (or nothing): a download may then go through a
    /// temporary file and a rename; a device or FIFO is written in place.
    func isWritableRegularOrAbsent(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return true }
        return (st.st_mode & S_IFMT) == S_IFREG || (st.st_mode & S_IFMT) == S_IFLNK
    }
}
