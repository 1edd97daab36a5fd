import Foundation
import NetKit

/// Files, the environment, time and the script's arguments; and the file readers the other
/// families use (`readBytes`, `readData`, `readText`).
extension CoreBuiltins {
    static func registerSystem(_ r: Interpreter) {
        r.register("args", min: 0, max: 0, usage: "args", summary: "The script's command-line arguments (after the script name): a plain list of strings, like Python's sys.argv[1:] (`len args`, `args[0]`).",
                   example: "for a in args { print a }") { a in .list(a.interp.scriptArgs.map { .string($0) }) }
        // A value, not a command: `len args` and `args[0]` work as on any list.
        r.globals["args"] = .list([])
        r.register("env", min: 0, max: 2, usage: "env [NAME [DEFAULT]]", summary: "An environment variable (nil or DEFAULT when unset); with no name, all of them as a map.",
                   example: "env \"HOME\"") { a in
            let e = ProcessInfo.processInfo.environment
            if a.count == 0 { return .map(e.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) }
            return e[try a.string(0)].map { .string($0) } ?? (a.count > 1 ? a[1] : .nil)
        }
        r.register("exit", min: 0, max: 1, usage: "exit [STATUS]", summary: "Ends the script with an exit status (default 0).",
                   example: "exit 1") { a in
            let n = a.count > 0 ? try a.int(0) : 0
            guard (0...255).contains(n) else { throw Diagnostic.value("exit: status must be 0 to 255, not \(n)") }
            throw ExitSignal(status: Int32(n))
        }
        r.register("sleep", min: 1, max: 1, usage: "sleep SECONDS", summary: "Pauses (Ctrl-C interrupts it).", example: "sleep 0.5") { a in
            let secs = try a.number(0)
            guard secs >= 0, secs.isFinite else { throw Diagnostic.value("sleep: seconds must be a non-negative number") }
            a.interp.output.flush()
            let deadline = Date().addingTimeInterval(secs)
            let interrupted = blockingCall { () -> Bool in
                while Date() < deadline {
                    if interruptFlag.load(ordering: .relaxed) { return true }
                    usleep(UInt32(min(50_000, max(0, deadline.timeIntervalSinceNow) * 1_000_000)))
                }
                return false
            }
            if interrupted { throw Interpreter.interrupted() }
            return .nil
        }
        r.register("now", min: 0, max: 0, usage: "now", summary: "The current time in seconds since 1970-01-01 UTC (a float).",
                   example: "t = now") { _ in .float(Date().timeIntervalSince1970) }
        r.register("clock", min: 0, max: 0, usage: "clock", summary: "A monotonic clock in seconds, for measuring how long something takes.",
                   example: "t0 = clock; work; print (clock - t0)") { _ in
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return .float(Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9)
        }
        r.register("lines", min: 1, max: 1, usage: "lines FILE", summary: "The lines of a text file, without their line endings (\"-\" reads standard input).",
                   example: "for l in lines \"hosts.txt\" { print l }") { a in
            let path = try a.string(0)
            return .list(try splitLines(try readBytes(path), path))
        }
        r.register("read", min: 0, max: 1, options: ["bytes"], usage: "read [FILE] [bytes: true]", summary: "A whole file as a string (or bytes); with no file, all of standard input.",
                   example: "text = read \"notes.txt\"") { a in
            let path = a.count > 0 ? try a.string(0) : "-"
            let data = try readData(path)
            if a.optionBool("bytes") ?? false { return .bytes(Array(data)) }
            guard let s = String(data: data, encoding: .utf8) else {
                throw Diagnostic.value("read: \(path) is not UTF-8 text (use bytes: true)")
            }
            return .string(s)
        }
        r.register("input", min: 0, max: 1, usage: "input [PROMPT]", summary: "Reads one line from standard input (nil at end of input).",
                   example: "name = input \"name? \"") { a in
            if a.count > 0 { a.interp.output.write(a[0].displayString) }
            a.interp.output.flush()
            guard let line = readLine(strippingNewline: true) else { return .nil }
            return .string(line)
        }
        r.register("write", min: 2, max: 2, options: ["append"], usage: "write FILE DATA [append: true]", summary: "Writes a string or bytes to a file (replacing it unless append:). Returns the byte count.",
                   example: "write \"out.txt\" \"hello\\n\"") { a in
            let path = try a.string(0)
            let data: [UInt8]
            switch a[1] {
            case .bytes(let b): data = b
            default: data = Array(a[1].displayString.utf8)
            }
            let append = a.optionBool("append") ?? false
            let fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
            guard fd >= 0 else { throw Diagnostic.io("write: cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            if let e = data.withUnsafeBytes({ SysCall.writeAll(fd, $0) }) {
                throw Diagnostic.io("write: \(path): \(String(cString: strerror(e)))")
            }
            return .int(data.count)
        }
        r.register("exists", min: 1, max: 1, usage: "exists PATH", summary: "Whether a file or directory exists.", example: "if exists \"out.txt\" { … }") { a in
            .bool(FileManager.default.fileExists(atPath: try a.string(0)))
        }
    }

    static func readData(_ path: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        return Data(try readBytes(path))
    }

    /// A whole file with plain POSIX calls: one fstat, reads straight into the array.
    static func readBytes(_ path: String) throws -> [UInt8] {
        if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw Diagnostic.io(e == ENOENT ? "\(path): no such file" : "cannot read \(path): \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Diagnostic.io("cannot read \(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw Diagnostic.io("\(path) is a directory") }
        var out = [UInt8](repeating: 0, count: max(Int(st.st_size), 0))
        var filled = 0
        while true {
            if filled == out.count { out.append(contentsOf: [UInt8](repeating: 0, count: max(65536, out.count))) }
            let n = out.withUnsafeMutableBytes { b in SysCall.retryingSignals { read(fd, b.baseAddress! + filled, b.count - filled) } }
            if n < 0 {
                throw Diagnostic.io("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        out.removeSubrange(filled...)
        return out
    }

    /// A file's lines as a list whose strings are made on first use (see `LazyLines`).
    static func splitLines(_ data: [UInt8], _ path: String) throws -> ListRef {
        let valid = data.withUnsafeBufferPointer { isASCII($0) || String(validating: $0, as: UTF8.self) != nil }
        guard valid else { throw Diagnostic.value("\(path) is not UTF-8 text") }
        return ListRef(lines: LazyLines(data))
    }

    /// Whether every byte is below 0x80, eight at a time: most data files are, and need no
    /// further UTF-8 validation.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = UnsafeRawPointer(bytes.baseAddress) else { return true }
        let n = bytes.count
        var i = 0
        var acc: UInt64 = 0
        while i + 8 <= n {
            acc |= base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n { acc |= UInt64(bytes[i]); i += 1 }
        return acc & 0x8080_8080_8080_8080 == 0
    }

    static func readText(_ path: String) throws -> String {
        let d = try readData(path)
        guard let s = String(data: d, encoding: .utf8) else { throw Diagnostic.value("\(path) is not UTF-8 text") }
        return s
    }
}
