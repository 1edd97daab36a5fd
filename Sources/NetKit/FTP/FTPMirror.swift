import Foundation

/// What a mirror did.
public struct FTPMirrorResult: Sendable {
    public var files = 0
    public var directories = 0
    public var bytes: Int64 = 0
    public var skipped: [String] = []
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
        return result
    }

    private func mirrorGet(_ remote: String, _ local: String, depth: Int, resume: Bool, progress: FTPProgress?, into r: inout FTPMirrorResult) throws {
        guard depth < FTPClient.maxMirrorDepth else {
            throw FTPError(.value, "ftp.mirror \(remote): deeper than \(FTPClient.maxMirrorDepth) levels")
        }
        do { try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true) }
        catch { throw FTPError(.io, "ftp.mirror: cannot make the directory \(local): \(error.localizedDescription)") }
        r.directories += 1
        for e in try entries(remote) {
            let rp = FTPClient.join(remote, e.name), lp = FTPClient.join(local, e.name)
            if e.name.contains("/") || e.name.isEmpty { r.skipped.append(rp); continue }
            switch e.type {
            case "dir": try mirrorGet(rp, lp, depth: depth + 1, resume: resume, progress: progress, into: &r)
            case "file":
                let t = try retrieve(rp, to: lp, resume: resume, progress: progress)
                r.files += 1; r.bytes += t.bytes
            default: r.skipped.append(rp)
            }
        }
    }

    /// Copies a local directory tree to a remote directory (made as needed). Symbolic links
    /// and other non-regular files are skipped and listed in the result.
    public func mirrorPut(_ local: String, to remote: String, progress: FTPProgress? = nil) throws -> FTPMirrorResult {
        var result = FTPMirrorResult()
        try mirrorPut(local, remote, depth: 0, progress: progress, into: &result)
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
            guard cw.kind == 2 else { throw FTPError.unexpected(mk, doing: "\(what): MKD \(remote)") }
            cachedPwd = nil
        }
        r.directories += 1
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: local).sorted() }
        catch { throw FTPError(.io, "\(what): cannot read the directory \(local): \(error.localizedDescription)") }
        for name in names {
            let lp = FTPClient.join(local, name), rp = FTPClient.join(remote, name)
            var st = stat()
            guard lstat(lp, &st) == 0 else { r.skipped.append(lp); continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: try mirrorPut(lp, rp, depth: depth + 1, progress: progress, into: &r)
            case S_IFREG:
                let t = try store(lp, to: rp, progress: progress)
                r.files += 1; r.bytes += t.bytes
            default: r.skipped.append(lp)
            }
        }
    }
}
