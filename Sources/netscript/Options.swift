import Foundation

/// The command line, as one table: `--help`, the man page test, and the shell completions
/// (`--completions bash|zsh`) are all read from `CommandLineOptions.table`, so a flag added
/// here is documented and completed everywhere at once.
struct CommandLineOptions {
    /// Pieces of `-e` code, run as one program.
    var code: [String] = []
    /// The script to run; "-" for standard input.
    var file: String? = nil
    var trace = false
    /// Teaching: stop before each protocol step (`--step`), record or replay the connections.
    var step = false
    var record: String? = nil
    var replay: String? = nil
    /// Arguments after the script (or after `-e CODE`), given to the program as `args`.
    var rest: [String] = []

    /// One option: its spellings, the name of its argument (nil for a switch), its help line,
    /// the completion of its argument (`file`, a word list, or none), and what it does.
    struct Option {
        let names: [String]
        let argument: String?
        let help: String
        var completes: Completion = .none
        let apply: (inout CommandLineOptions, String?) throws(Stop) -> Void

        enum Completion { case none, file(pattern: String?), words([String]) }
    }

    /// Why parsing stopped before a program ran: a usage error (exit 2), or an option such as
    /// `--version`, `--help` or `--completions` that prints its text and exits 0.
    enum Stop: Error { case usage(String), done(String) }

    nonisolated(unsafe) static let table: [Option] = [
        Option(names: ["-e"], argument: "CODE",
               help: "run CODE (may be given more than once; the pieces run as one program)") { o, v in
            o.code.append(v!)
        },
        Option(names: ["--trace"], argument: nil,
               help: "show every protocol step as it happens (the same as `trace on`)") { o, _ in
            o.trace = true
        },
        Option(names: ["--step"], argument: nil,
               help: "stop before each protocol step is sent: Enter sends it, c continues, q abandons (needs a terminal)") { o, _ in
            o.step = true
        },
        Option(names: ["--record"], argument: "FILE",
               help: "record every byte each connection exchanges (JSON lines) while the program runs",
               completes: .file(pattern: nil)) { o, v throws(Stop) in
            if o.replay != nil { throw .usage("--record and --replay cannot be used together") }
            o.record = v
        },
        Option(names: ["--replay"], argument: "FILE",
               help: "run with no network: each connection is answered from FILE, the first difference is an error",
               completes: .file(pattern: "*.nrec")) { o, v throws(Stop) in
            if o.record != nil { throw .usage("--record and --replay cannot be used together") }
            o.replay = v
        },
        Option(names: ["--shard"], argument: "K/N",
               help: "`shard xs` keeps shard K of N of a list (the same as NETSCRIPT_SHARD=K/N)") { _, v in
            setenv("NETSCRIPT_SHARD", v!, 1)   // `shard` reads and checks it
        },
        Option(names: ["--completions"], argument: "SHELL",
               help: "print the completion script for bash or zsh and exit",
               completes: .words(["bash", "zsh"])) { _, v throws(Stop) in
            switch v! {
            case "bash": throw .done(ShellCompletions.bash())
            case "zsh": throw .done(ShellCompletions.zsh())
            default: throw .usage("--completions takes bash or zsh, not \(v!)")
            }
        },
        Option(names: ["--version", "-V"], argument: nil, help: "print the version and exit") { _, _ throws(Stop) in
            throw .done(version)
        },
        Option(names: ["-h", "--help"], argument: nil, help: "print this help and exit") { _, _ throws(Stop) in
            throw .done(usage())
        },
    ]

    /// Parses `argv` (without the program name). Options come before the script; everything
    /// after the script, or after `-e CODE` once a non-option appears, belongs to the program.
    static func parse(_ arguments: [String]) throws(Stop) -> CommandLineOptions {
        var o = CommandLineOptions()
        var argv = arguments[...]
        while let a = argv.popFirst() {
            if o.file != nil || (!o.code.isEmpty && !a.hasPrefix("-")) {
                o.rest.append(a); o.rest += argv; break
            }
            if a == "--" {
                if let f = argv.popFirst() { o.file = f }
                o.rest += argv; break
            }
            if a == "-" { o.file = "-"; continue }
            // `--name=value` as well as `--name value`.
            var name = a, inlineValue: String? = nil
            if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") {
                name = String(a[..<eq]); inlineValue = String(a[a.index(after: eq)...])
            }
            if let option = table.first(where: { $0.names.contains(name) }) {
                var value: String? = nil
                if let argName = option.argument {
                    guard let v = inlineValue ?? argv.popFirst() else {
                        throw .usage("\(name) needs \(argName == "CODE" ? "code to run" : argName)")
                    }
                    value = v
                } else if inlineValue != nil {
                    throw .usage("\(name) takes no value")
                }
                try option.apply(&o, value)
                continue
            }
            if a.hasPrefix("-") && a.count > 1 && o.code.isEmpty {
                throw .usage("unknown option \(a)")
            }
            if o.code.isEmpty { o.file = a } else { o.rest.append(a) }
        }
        return o
    }

    static func usage() -> String {
        var lines = [
            "usage: netscript [options] [FILE.net | -] [ARGS…]",
            "       netscript [options] -e CODE [ARGS…]",
            "",
            "With no FILE, runs the REPL on a terminal, or the program on standard input otherwise.",
            "",
            "options:",
        ]
        for option in table {
            var spelled = option.names.sorted { $0.count < $1.count }.joined(separator: ", ")
            if let arg = option.argument { spelled += " \(arg)" }
            lines.append("  " + spelled.padding(toLength: max(spelled.count, 20), withPad: " ", startingAt: 0) + "  " + option.help)
        }
        lines += [
            "",
            "Exit status: 0 on success, 1 for a runtime error, 2 for a syntax or usage error,",
            "130 after Ctrl-C, or what `exit N` says.",
            "In the REPL: `help` lists the commands, `help NAME` explains one, Ctrl-D exits.",
            "Manual: man netscript (scripts/install puts it in place).",
        ]
        return lines.joined(separator: "\n")
    }
}

