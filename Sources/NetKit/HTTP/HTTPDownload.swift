import Foundation

extension HTTPAgent {
    /// GET `spec.url` into the file at `path`, as served (no compression is asked for).
    ///
    /// Nothing local is lost: a regular file is written beside the target (`path.part`) and
    /// renamed over it only when the whole body arrived with a 2xx/3xx status; a failed or
    /// refused download removes the part file and leaves what was at `path` as it was.
    /// `/dev/null`, a pipe or another special file is written directly. A 4xx/5xx response
    /// is an `http.status` error naming the status (nothing saved).
    public func download(_ spec: HTTPRequestSpec, to path: String, progress: ((Int, Int?) -> Void)? = nil) throws -> HTTPResponseData {
        var spec = spec
        spec.acceptEncoding = false
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        if isDir.boolValue { throw HTTPClientFailure(.io, "http.download: \(path) is a directory", url: spec.url) }
        var st = stat()
        let special = exists && stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG
        let part = special ? path : path + ".part"
        let fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw HTTPClientFailure(.io, "http.download: cannot write \(part): \(String(cString: strerror(errno)).lowercased())", url: spec.url)
        }
        var closed = false
        func finish(keep: Bool) throws {
            if !closed { closed = true; Glibc.close(fd) }
            if special { return }
            if !keep { unlink(part); return }
            if rename(part, path) != 0 {
                let why = String(cString: strerror(errno)).lowercased()
                unlink(part)
                throw HTTPClientFailure(.io, "http.download: cannot rename \(part) to \(path): \(why)", url: spec.url)
            }
        }
        let r: HTTPResponseData
        do {
            r = try perform(spec, sink: fd, progress: progress)
        } catch {
            try? finish(keep: false)
            throw error
        }
        if r.status >= 400 {
            try finish(keep: false)
            throw HTTPClientFailure(.status, "GET \(r.url): \(r.status) \(r.reason) (nothing saved to \(path))", url: r.url, status: r.status)
        }
        try finish(keep: true)
        return r
    }
}
