import Foundation
import NetScript
import NetKit

/// netscript — the front end: argument parsing, then the REPL or the script runner.
/// glibc's mallopt, which the Glibc module does not export.
@_silgen_name("mallopt") func c_mallopt(_ param: Int32, _ value: Int32) -> Int32

let version = "netscript 0.1.0 (NetKit \(NetKitInfo.version))"

let usage = """
usage: netscript [options] [FILE.net | -] [ARGS…]
       netscript [options] -e CODE [ARGS…]

With no FILE, runs the REPL on a terminal, or the program on standard input otherwise.

options:
  -e CODE       run CODE (may be given more than once; the pieces run as one program)
  --trace       show every protocol step as it happens (the same as `trace on`)
  --shard K/N   `shard xs` keeps shard K of N of a list (the same as NETSCRIPT_SHARD=K/N)
  --version     print the version and exit
  -h, --help    print this help and exit

In the REPL: `help` lists the commands, `help NAME` explains one, Ctrl-D exits.
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("netscript: \(message)\n(see netscript --help)\n".data(using: .utf8)!)
    exit(2)
}

var code: [String] = []
var file: String? = nil
var trace = false
var rest: [String] = []
var argv = Array(CommandLine.arguments.dropFirst())
while !argv.isEmpty {
    let a = argv.removeFirst()
    if file != nil || (!code.isEmpty && !a.hasPrefix("-")) { rest.append(a); rest += argv; break }
    switch a {
    case "-e":
        guard !argv.isEmpty else { fail("-e needs code to run") }
        code.append(argv.removeFirst())
    case "--trace": trace = true
    case "--shard":   // `shard xs` reads it as NETSCRIPT_SHARD (checked there)
        guard !argv.isEmpty else { fail("--shard needs K/N, like 2/4") }
        setenv("NETSCRIPT_SHARD", argv.removeFirst(), 1)
    case "--version", "-V": print(version); exit(0)
    case "-h", "--help": print(usage); exit(0)
    case "--": if let f = argv.first { file = f; argv.removeFirst() }; rest += argv; argv = []
    case "-": file = "-"
    default:
        if a.hasPrefix("-") && a.count > 1 && code.isEmpty { fail("unknown option \(a)") }
        if code.isEmpty { file = a } else { rest.append(a) }
    }
}

installInterruptHandler()
// Big arrays (a million prefixes, a large download) grow by doubling; served from the heap
// rather than fresh mmaps, their pages are reused instead of faulted in again on every growth.
_ = c_mallopt(-3 /* M_MMAP_THRESHOLD */, 512 << 20)
_ = c_mallopt(-1 /* M_TRIM_THRESHOLD */, 1 << 30)
_ = c_mallopt(-2 /* M_TOP_PAD */, 64 << 20)
// libedit and the terminal need the user's locale for UTF-8 input.
if setlocale(LC_CTYPE, "") == nil || String(cString: nl_langinfo(nl_item(CODESET))) != "UTF-8" {
    _ = setlocale(LC_CTYPE, "C.UTF-8")
}
let interp = Interpreter()
interp.scriptArgs = rest
interp.transcript.isLive = trace
let color = isatty(2) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

/// Runs a program on a thread with a large stack, so deep recursion in a script is an error
/// the interpreter reports rather than a crash.
func runOnBigStack(_ body: @escaping () -> Int32) -> Int32 {
    final class Status: @unchecked Sendable { var value: Int32 = 0 }
    let status = Status()
    let done = DispatchSemaphore(value: 0)
    let t = Thread {
        interpreterThread = pthread_self()
        status.value = body()
        done.signal()
    }
    t.stackSize = 1 << 29
    t.start()
    done.wait()   // the semaphore orders the write above before this read
    return status.value
}

func report(_ error: Error) -> Int32 {
    interp.output.flush()
    switch error {
    case let e as ExitSignal: return e.status
    case let d as Diagnostic:
        FileHandle.standardError.write((d.render(color: color) + "\n").data(using: .utf8)!)
        return d.isUsageError ? 2 : (d.kind == "interrupted" ? 130 : 1)
    default:
        FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
        return 1
    }
}

if !code.isEmpty {
    let status = runOnBigStack {
        do { try interp.run(Source(name: "-e", text: code.joined(separator: "\n"))) } catch { return report(error) }
        interp.output.flush()
        return 0
    }
    exit(status)
}

if let file, file != "-" {
    let status = runOnBigStack {
        do { try interp.runFile(path: file) } catch { return report(error) }
        interp.output.flush()
        return 0
    }
    exit(status)
}

if file == nil && isatty(0) == 1 {
    interp.isInteractive = true
    let repl = REPL(interp: interp, color: color)
    exit(runOnBigStack { repl.run() })
}

// A program on standard input.
let data = FileHandle.standardInput.readDataToEndOfFile()
guard let text = String(data: data, encoding: .utf8) else { fail("standard input is not UTF-8 text") }
exit(runOnBigStack {
    do { try interp.run(Source(name: "<stdin>", text: text)) } catch { return report(error) }
    interp.output.flush()
    return 0
})
