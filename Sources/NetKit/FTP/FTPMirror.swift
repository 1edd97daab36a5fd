import Foundation

/// What a mirror did.
public struct FTPMirrorResult: Sendable {
    /// How many files were copied.
    public var files = 0
    /// How many directories were copied into (made where needed), the top one included.
    public var directories = 0
    /// How many bytes of file data were copied.
    public var bytes: Int64 = 0
    /// Paths left out on purpose: links, special files, names containing `/`, local entries that cannot be examined.
    public var skipped: [String] = []
    /// Items the server (or the local file system) refused, each with why; the mirror carried
    /// on past them, as lftp's does, and reports them all at the end.
    public var failed: [(path: String, error: FTPError)] = []
}

extension FTPClient {
    static let maxMirrorDepth = 64

    /// The entries of a remote directory: MLSD when the server offers it, else a Unix-style LIST.
    func entries(_ path: String) throws -> [FTPEntry] {
        if features.contains(where: { $0.uppercased().hasPrefix("MLST") }) {
            return try mlsd(path).filter { $0.type != "cdir" && $0.type != "pdir" && $0.name != "." && $0.name != ".." }
        }
        return try list(path).compactMap { FTPEntry.parse(unixList: $0) }.filter { $0.name != "." && $0.name != ".." }
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// Copies a remote directory tree into a local directory (made as needed). Links and
    /// names with a `/` are skipped and listed in the result.
    public func mirrorGet(_ remote: String, to local: String, resume: Bool = false, progress: FTPProgress? = nil) throws -> FTPMirrorResult {
        var result = FTPMirrorResult()
        try mirrorGet(remote, local, depth: 0, resume: resume, progress: progress, into: &result)
        try FTPClient.reportFailures(result, "ftp.mirror \(remote) → \(local)")
        return result
    }

    /// A refusal of one item (a 4xx/5xx reply, an unexpected reply, a local file that cannot
    /// be written) lets a mirror go on; a broken session (closed, timeout, reset, Ctrl-C) does not.
    static func isPerItem(_ e: FTPError) -> Bool {
        [.perm, .temp, .reply, .io].contains(e.kind)
    }

    /// Throws one error listing every item that failed, when any did.
    static func reportFailures(_ r: FTPMirrorResult, _ what: String) throws {
        guard let first = r.failed.first else { return }
        var msg = "\(what): \(r.failed.count) item\(r.failed.count == 1 ? "" : "s") failed (\(r.files) file\(r.files == 1 ? "" : "s") copied):"
        for f in r.failed.prefix(20) { msg += "\n  \(f.path): \(f.error.message)" }
        if r.failed.count > 20 { msg += "\n  … \(r.failed.count - 20) more" }
        throw FTPError(first.error.kind, msg, reply: first.error.reply)
    }

    private func mirrorGet(_ remote: String, _ local: String, depth: Int, resume: Bool, progress: FTPProgress?, into r: inout FTPMirrorResult) throws {
        guard depth < FTPClient.maxMirrorDepth else {
            throw FTPError(.value, "ftp.mirror \(remote): deeper than \(FTPClient.maxMirrorDepth) levels")
        }
        // The listing first: a directory that cannot be listed leaves no empty local one behind.
        let list: [FTPEntry]
        do { list = try entries(remote) } catch let e as FTPError where depth > 0 && FTPClient.isPerItem(e) {
            r.failed.append((remote, e)); return
        }
        // Some servers (vsftpd) list a missing directory as empty: an empty listing of the
        // top directory is checked with CWD (and the working directory put back).
        if list.isEmpty && depth == 0 {
            let back = try pwd()
            let cw = try command("CWD \(remote)", doing: "ftp.mirror \(remote)")
            cachedPwd = nil
            guard cw.kind == 2 else { throw FTPError.unexpected(cw, doing: "ftp.mirror \(remote): no such directory") }
            try expect("CWD \(back)", doing: "ftp.mirror \(remote)")
        }
        do { try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true) }
        catch {
            let e = FTPError(.io, "ftp.mirror: cannot make the directory \(local): \(error.localizedDescription)")
            if depth == 0 { throw e }
            r.failed.append((local, e)); return
        }
        r.directories += 1
        for e in list {
            let rp = FTPClient.join(remote, e.name), lp = FTPClient.join(local, e.name)
            if e.name.contains("/") || e.name.isEmpty { r.skipped.append(rp); continue }
            switch e.type {
            case "dir": try mirrorGet(rp, lp, depth: depth + 1, resume: resume, progress: progress, into: &r)
            case "file":
                do {
                    let t = try retrieve(rp, to: lp, resume: resume, progress: progress)
                    r.files += 1; r.bytes += t.bytes
                } catch let err as FTPError where FTPClient.isPerItem(err) {
                    r.failed.append((rp, err))
                }
            default: r.skipped.append(rp)
            }
        }
    }

    /// Copies a local directory tree to a remote directory (made as needed). Symbolic links
    /// and other non-regular files are skipped and listed in the result.
    public func mirrorPut(_ local: String, to remote: String, progress: FTPProgress? = nil) throws -> FTPMirrorResult {
        var result = FTPMirrorResult()
        // Checking that a directory exists moves into it: the working directory is put back.
        let back = try pwd()
        defer { if !isClosed, (try? command("CWD \(back)", doing: "ftp.mirror")) != nil { cachedPwd = nil } }
        try mirrorPut(local, remote, depth: 0, progress: progress, into: &result)
        try FTPClient.reportFailures(result, "ftp.mirror \(local) → \(remote)")
        return result
    }

    private func mirrorPut(_ local: String, _ remote: String, depth: Int, progress: FTPProgress?, into r: inout FTPMirrorResult) throws {
        guard depth < FTPClient.maxMirrorDepth else {
            throw FTPError(.value, "ftp.mirror \(local): deeper than \(FTPClient.maxMirrorDepth) levels")
        }
        let what = "ftp.mirror \(local) → \(remote)"
        let mk = try command("MKD \(remote)", doing: what)
        if mk.kind != 2 {
            // It may exist already: that is fine if we can change into it.
            let cw = try command("CWD \(remote)", doing: what)
            cachedPwd = nil
            guard cw.kind == 2 else {
                // This subtree cannot go up; its siblings still can.
                r.failed.append((remote, FTPError.unexpected(mk, doing: "MKD \(remote)")))
                return
            }
        }
        r.directories += 1
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: local).sorted() }
        catch {
            let e = FTPError(.io, "\(what): cannot read the directory \(local): \(error.localizedDescription)")
            if depth == 0 { throw e }
            r.failed.append((local, e)); return
        }
        for name in names {
            let lp = FTPClient.join(local, name), rp = FTPClient.join(remote, name)
            var st = stat()
            guard lstat(lp, &st) == 0 else { r.skipped.append(lp); continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: try mirrorPut(lp, rp, depth: depth + 1, progress: progress, into: &r)
            case S_IFREG:
                do {
                    let t = try store(lp, to: rp, progress: progress)
                    r.files += 1; r.bytes += t.bytes
                } catch let err as FTPError where FTPClient.isPerItem(err) {
                    r.failed.append((rp, err))
                }
            default: r.skipped.append(lp)
            }
        }
    }
}
