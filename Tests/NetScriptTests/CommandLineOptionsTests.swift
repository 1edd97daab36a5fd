import Foundation
import XCTest

/// The command line: one run path for a file, `-e` and standard input; `--help` generated from
/// the option table, and the man page and the bash/zsh completions knowing every option it lists;
/// `scripts/install` putting all three in place.
final class CommandLineOptionsTests: XCTestCase {
    let repo = NetScriptBinary.scriptsDir.deletingLastPathComponent().deletingLastPathComponent()

    /// The options `--help` lists, each as its spellings (`-h`, `--help`).
    func helpOptions(_ exe: String) throws -> [[String]] {
        let help = try runProcess(exe, ["--help"])
        XCTAssertEqual(help.status, 0)
        let lines = help.stdout.split(separator: "\n").drop { $0 != "options:" }.dropFirst()
            .prefix { !$0.isEmpty }
        let options = lines.map { line in
            line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")[0]
                .split(separator: " ").filter { $0.hasPrefix("-") }
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",")) }
        }
        XCTAssertGreaterThanOrEqual(options.count, 5, help.stdout)
        return options
    }

    func testFileDashEAndStdinShareOneRunPath() throws {
        let exe = try NetScriptBinary.path()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = "print (len args)\nprint args\nx = 1\nprint (x / 0)\n"
        let file = dir.appendingPathComponent("p.net")
        try program.write(to: file, atomically: true, encoding: .utf8)

        let viaFile = try runProcess(exe, [file.path, "a", "b"])
        let viaCode = try runProcess(exe, ["-e", program, "a", "b"])
        let viaStdin = try runProcess(exe, ["-", "a", "b"], stdin: program)
        for (name, r) in [(file.path, viaFile), ("-e", viaCode), ("<stdin>", viaStdin)] {
            XCTAssertEqual(r.stdout, "2\n[\"a\", \"b\"]\n", name)
            XCTAssertEqual(r.status, 1, name)
            XCTAssertTrue(r.stderr.hasPrefix("\(name):4:"), "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("error[value]") || r.stderr.contains("error["), r.stderr)
        }
        // The error text past the file name is the same for all three.
        func tail(_ s: String) -> String { String(s.drop { $0 != ":" }) }
        XCTAssertEqual(tail(viaFile.stderr), tail(viaCode.stderr))
        XCTAssertEqual(tail(viaCode.stderr), tail(viaStdin.stderr))
    }

    func testUsageErrorsExitTwoAndSayWhatIsWrong() throws {
        let exe = try NetScriptBinary.path()
        for (args, message) in [(["--bogus"], "unknown option --bogus"), (["-e"], "-e needs code to run"),
                                (["--trace=yes"], "--trace takes no value"),
                                (["--completions", "fish"], "--completions takes bash or zsh, not fish")] {
            let r = try runProcess(exe, args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.stderr.contains("netscript: \(message)"), "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--help"), r.stderr)
        }
        let v = try runProcess(exe, ["--version"])
        XCTAssertEqual(v.status, 0)
        XCTAssertTrue(v.stdout.hasPrefix("netscript "), v.stdout)
    }

    func testManPageDocumentsEveryOptionAndRendersCleanly() throws {
        let exe = try NetScriptBinary.path()
        let page = try String(contentsOf: repo.appendingPathComponent("doc/netscript.1"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        for spellings in try helpOptions(exe) {
            for name in spellings {
                XCTAssertTrue(page.contains(name), "doc/netscript.1 does not mention \(name)")
            }
        }
        // groff's warnings (-ww) on stderr mean a malformed page.
        let groff = try runProcess("/usr/bin/env", ["groff", "-man", "-ww", "-z", repo.appendingPathComponent("doc/netscript.1").path])
        XCTAssertEqual(groff.status, 0)
        XCTAssertEqual(groff.stderr, "", "groff warns about doc/netscript.1")
    }

    /// Drives the generated bash completion the way bash does: COMP_WORDS/COMP_CWORD set,
    /// the function called, COMPREPLY read back.
    func testBashCompletionCompletesFlagsValuesAndScripts() throws {
        let exe = try NetScriptBinary.path()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-comp-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "".write(to: dir.appendingPathComponent("tour.net"), atomically: true, encoding: .utf8)
        try "".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let script = dir.appendingPathComponent("complete.bash")
        let gen = try runProcess(exe, ["--completions", "bash"])
        XCTAssertEqual(gen.status, 0)
        try gen.stdout.write(to: script, atomically: true, encoding: .utf8)

        func complete(_ words: [String]) throws -> [String] {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let r = try runProcess("/bin/bash", ["-c", """
                source '\(script.path)'
                COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
                _netscript
                printf '%s\\n' "${COMPREPLY[@]}"
                """], cwd: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout.split(separator: "\n").map(String.init).sorted()
        }
        let every = try helpOptions(exe).flatMap { $0 }
        let all = try complete(["netscript", "-"])
        for name in every { XCTAssertTrue(all.contains(name), "bash completion lacks \(name): \(all)") }
        XCTAssertEqual(try complete(["netscript", "--comp"]), ["--completions"])
        XCTAssertEqual(try complete(["netscript", "--completions", ""]), ["bash", "zsh"])
        XCTAssertEqual(try complete(["netscript", "--trace", "t"]), ["tour.net"])      // scripts: .net files
        XCTAssertEqual(try complete(["netscript", "tour.net", "n"]), ["notes.txt"])    // the script's own arguments: any file
    }

    func testZshCompletionNamesEveryOptionAndParses() throws {
        let exe = try NetScriptBinary.path()
        let gen = try runProcess(exe, ["--completions", "zsh"])
        XCTAssertEqual(gen.status, 0)
        XCTAssertTrue(gen.stdout.hasPrefix("#compdef netscript"))
        for name in try helpOptions(exe).flatMap({ $0 }) {
            XCTAssertTrue(gen.stdout.contains(name), "zsh completion lacks \(name)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh") || FileManager.default.isExecutableFile(atPath: "/bin/zsh") else {
            throw XCTSkip("zsh is not installed (scripts/deps installs it)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("_netscript-\(getpid())")
        try gen.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try runProcess("/usr/bin/env", ["zsh", "-n", file.path])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testInstallPutsBinaryManPageAndCompletionsUnderPrefix() throws {
        let exe = try NetScriptBinary.path()
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("ns-prefix-\(getpid())")
        defer { try? FileManager.default.removeItem(at: prefix) }
        var env = ProcessInfo.processInfo.environment
        env["NETSCRIPT_BIN"] = exe
        let r = try runProcess(repo.appendingPathComponent("scripts/install").path, [prefix.path], env: env)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let installed = prefix.appendingPathComponent("bin/netscript").path
        XCTAssertEqual(try runProcess(installed, ["-e", "print (6 * 7)"]).stdout, "42\n")
        let man = try runProcess("/usr/bin/env", ["man", "-l", prefix.appendingPathComponent("share/man/man1/netscript.1").path],
                                 env: ["MANPAGER": "cat", "MANWIDTH": "80", "PATH": "/usr/bin:/bin"])
        XCTAssertTrue(man.stdout.contains("netscript - a scriptable interpreter"), man.stdout + man.stderr)
        let bash = try String(contentsOfFile: prefix.appendingPathComponent("share/bash-completion/completions/netscript").path, encoding: .utf8)
        XCTAssertTrue(bash.contains("complete -o filenames -F _netscript netscript"))
        let zsh = try String(contentsOfFile: prefix.appendingPathComponent("share/zsh/site-functions/_netscript").path, encoding: .utf8)
        XCTAssertTrue(zsh.hasPrefix("#compdef netscript"))
    }
}
