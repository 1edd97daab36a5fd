import Foundation
import NetKit

/// The REPL's history file, shared by every REPL that runs at once. Each entry is appended as
/// it is entered, so a terminal closed under a running REPL loses nothing and two REPLs keep
/// both their entries (bash's `histappend`); nothing rewrites the file at exit. The format is
/// libedit's, so `read_history` loads it: a `_HiStOrY_V2_` line, then one entry a line,
/// vis(3)-encoded (here every byte that is not printable ASCII, and the backslash, as `\ooo`,
/// which strunvis decodes; a multi-line entry stays one line). Writers take an exclusive
/// flock on the file, and the file is kept to its last `limit` entries.
struct HistoryFile {
    let path: String
    let limit: Int

    static let cookie = "_HiStOrY_V2_\n"

    /// One entry as a line of the file.
    static func encode(_ entry: String) -> String {
        var out = ""
        for b in entry.utf8 {
            if b > 0x20 && b < 0x7F && b != UInt8(ascii: "\\") {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                let o = String(b, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - o.count) + o
            }
        }
        return out + "\n"
    }

    /// Runs `body` with the file open and locked; false when it cannot be opened.
    @discardableResult
    func withLockedFile(_ flags: Int32, _ body: (Int32) -> Void) -> Bool {
        let fd = open(path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        _ = SysCall.retryingSignals { flock(fd, LOCK_EX) }
        body(fd)
        return true
    }

    static func writeAll(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { SysCall.writeAll(fd, $0) }
    }

    /// Appends one entry (writing the header first into a new or empty file).
    func append(_ entry: String) {
        withLockedFile(O_WRONLY | O_APPEND | O_CREAT) { fd in
            var st = stat()
            let text = (fstat(fd, &st) == 0 && st.st_size == 0 ? HistoryFile.cookie : "") + HistoryFile.encode(entry)
            HistoryFile.writeAll(fd, text)
        }
    }

    /// Cuts the file to its last `limit` entries, in place (under the lock, so an append
    /// waiting for it lands after the cut rather than in a replaced file).
    func trim() {
        withLockedFile(O_RDWR) { fd in
            guard let data = try? FileHandle(fileDescriptor: fd, closeOnDealloc: false).readToEnd(),
                  let text = String(data: data, encoding: .utf8), text.hasPrefix(HistoryFile.cookie) else { return }
            let lines = text.dropFirst(HistoryFile.cookie.count).split(separator: "\n", omittingEmptySubsequences: true)
            guard lines.count > limit else { return }
            let kept = HistoryFile.cookie + lines.suffix(limit).joined(separator: "\n") + "\n"
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { return }
            HistoryFile.writeAll(fd, kept)
        }
    }
}
