import Foundation
import NetScript
import NetKit

/// netscript — the front end: the command line (Options.swift), then the REPL or one run path
/// for a file, `-e` code or standard input (ScriptRunner.swift).
/// glibc's mallopt, which the Glibc module does not export.
@_silgen_name("mallopt") func c_mallopt(_ param: Int32, _ value: Int32) -> Int32

let version = "netscript 0.1.0 (NetKit \(NetKitInfo.version))"

let options: CommandLineOptions
do {
    options = try CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    switch error {
    case .done(let text):
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        exit(0)
    case .usage(let message):
        FileHandle.standardError.write("netscript: \(message)\n(see netscript --help)\n".data(using: .utf8)!)
        exit(2)
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
interp.scriptArgs = options.rest
interp.transcript.isLive = options.trace
TeachingFlags.apply(options, to: interp)
let runner = ScriptRunner(interp: interp, color: isatty(2) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)

let program: ScriptRunner.Program
if !options.code.isEmpty {
    program = .code(options.code.joined(separator: "\n"))
} else if let file = options.file, file != "-" {
    program = .file(file)
} else if options.file == nil && isatty(0) == 1 {
    program = .repl
} else {
    program = .standardInput
}
exit(runner.run(program))
