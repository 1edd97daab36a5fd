import Foundation
import XCTest

/// Drives the real `netscript` REPL inside tmux: line editing, history, completion,
/// multi-line input, errors, Ctrl-C and Ctrl-D, as a person at a terminal would.
final class REPLTests: XCTestCase {
    nonisolated(unsafe) static var counter = 0
    var tmux = ""
    var socket = ""
    var historyPath = ""
    var tempDir: URL!
    var lastTmuxError = ""
    /// The tmux session the helpers type into and read; nil for the only one.
    var target: String? = nil

    override func setUpWithError() throws {
        guard let t = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            XCTFail("tmux is not installed: the REPL tests need it (apt-get install tmux; scripts/test installs it)")
            throw XCTSkip("tmux missing")
        }
        tmux = t
        REPLTests.counter += 1
        socket = "nstest\(getpid())_\(REPLTests.counter)"
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-repl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
        historyPath = tempDir.appendingPathComponent("history").path
    }

    override func tearDown() {
        _ = try? tmuxRun(["kill-server"])
        if let tempDir { try? FileManager.default.removeItem(at: tempDir) }
    }

    @discardableResult
    func tmuxRun(_ args: [String]) throws -> String {
        try spawnAndWait(tmux, ["-L", socket] + args)
    }

    /// Runs a short command with posix_spawn and waitpid, returning its standard output.
    /// (The tmux server daemon outlives `new-session`; this waits for the client only.)
    func spawnAndWait(_ exe: String, _ args: [String]) throws -> String {
        let outPath = tempDir.appendingPathComponent("tmux-out-\(UUID().uuidString)").path
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, outPath + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
        guard rc == 0 else { throw NSError(domain: "posix_spawn", code: Int(rc)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        defer { unlink(outPath); unlink(outPath + ".err") }
        if let e = try? String(contentsOfFile: outPath + ".err", encoding: .utf8), !e.isEmpty { lastTmuxError = e }
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    /// Starts the REPL in a 120x40 pane; when it exits the pane shows its status and stays.
    /// With a session name, starts it in a session of its own (several REPLs at once) and
    /// makes that session the one the helpers drive.
    func startREPL(session: String? = nil) throws {
        let exe = try NetScriptBinary.path()
        let cmd = "env NETSCRIPT_HISTORY='\(historyPath)' TERM=xterm NO_COLOR=1 '\(exe)'; echo \"EXITED rc=$?\"; sleep 60"
        try tmuxRun(["new-session", "-d", "-x", "120", "-y", "40"] + (session.map { ["-s", $0] } ?? []) + [cmd])
        target = session
        try waitFor("the prompt") { $0.contains("\nns>") }
    }

    var targetArgs: [String] { target.map { ["-t", $0] } ?? [] }
    func type(_ text: String) throws { try tmuxRun(["send-keys"] + targetArgs + ["-l", text]) }
    func keys(_ names: String...) throws { try tmuxRun(["send-keys"] + targetArgs + names) }
    func line(_ text: String) throws { try type(text); try keys("Enter") }
    func screen() throws -> String { try tmuxRun(["capture-pane", "-p"] + targetArgs) }

    /// Polls the screen until the condition holds, failing with the screen after the deadline.
    @discardableResult
    func waitFor(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                 _ ok: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var s = ""
        while Date() < deadline {
            s = try screen()
            if ok(s) { return s }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what); screen:\n\(s)\n(tmux said: \(lastTmuxError))", file: file, line: line)
        throw XCTSkip("gave up")
    }

    /// The REPL's process id: the child of the shell the pane runs.
    func replPID(file: StaticString = #filePath, line: UInt = #line) throws -> pid_t {
        let shell = try tmuxRun(["display-message", "-p"] + targetArgs + ["#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        guard let pid = children.split(separator: " ").first.flatMap({ pid_t($0) }) else {
            XCTFail("no REPL process under the pane's shell \(shell)", file: file, line: line)
            throw XCTSkip("gave up")
        }
        return pid
    }

    /// How many lines say `interrupted` (after the terminal's echo of ^C, if any).
    func interruptions(_ s: String) -> Int {
        s.split(separator: "\n").filter { $0 == "interrupted" || $0 == "^Cinterrupted" }.count
    }

    /// The text of the last line that starts with the prompt.
    func lastPromptLine(_ s: String) -> String {
        s.split(separator: "\n").last { $0.hasPrefix("ns>") }.map(String.init) ?? ""
    }

    func testHistoryRecallAndHistoryFile() throws {
        try startREPL()
        try line("x = 20")
        try line("print (x + 1)")
        try waitFor("21") { $0.contains("\n21\n") }
        try line("print \"other\"")
        try waitFor("other") { $0.contains("\nother\n") }
        try keys("Up", "Up")
        try waitFor("the earlier line recalled") { self.lastPromptLine($0) == "ns> print (x + 1)" }
        try keys("Enter")
        try waitFor("21 twice") { $0.components(separatedBy: "\n21\n").count == 3 }
        try keys("C-d")
        try waitFor("exit status 0") { $0.contains("EXITED rc=0") }
        let history = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertTrue(history.contains("x\\040=\\04020") || history.contains("x = 20"), history)
        XCTAssertTrue(history.contains("print"), history)

        // A new session reads the history file.
        try tmuxRun(["kill-server"])
        socket += "b"   // a fresh server: the old one may still be shutting down
        try startREPL()
        try keys("Up")
        try waitFor("history from the previous session") { self.lastPromptLine($0) == "ns> print (x + 1)" }
        try keys("C-u", "C-d")
        try waitFor("exit status 0") { $0.contains("EXITED rc=0") }
    }

    func testTabCompletion() throws {
        try startREPL()
        try type("json.pa")
        try keys("Tab")
        try waitFor("json.parse completed") { self.lastPromptLine($0).hasPrefix("ns> json.parse") }
        try type(" '[1, 2]'")
        try keys("Enter")
        try waitFor("the parsed list") { $0.contains("\n[1, 2]\n") }
        try type("trace o")
        try keys("Tab", "Tab")
        try waitFor("on and off listed") { s in
            s.split(separator: "\n").contains { l in l.split(separator: " ").contains("on") && l.split(separator: " ").contains("off") }
        }
        try keys("C-u", "C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    func testMultiLineFunction() throws {
        try startREPL()
        try line("fn f(a) {")
        try waitFor("continuation prompt") { $0.contains("\n...") }
        try line("return a * 2")
        try line("}")
        try line("f 21")
        try waitFor("42") { $0.contains("\n42\n") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    func testValuesShownAsTables() throws {
        try startREPL()
        try line("[{host: \"ns1\", port: 53}, {host: \"mail\", port: 25}]")
        let s = try waitFor("a table") { $0.contains("mail  25") }
        XCTAssertTrue(s.contains("host  port"), s)
        try line("{name: \"x\", size: 1024}")
        try waitFor("a key/value table") { $0.contains("size  1024") }
        try line("x = 5")
        try line("x + 1")
        try waitFor("6") { $0.contains("\n6\n") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    func testErrorThenCarryOn() throws {
        try startREPL()
        try line("print nope")
        let s = try waitFor("the diagnostic") { $0.contains("error[name]: 'nope' is not defined") }
        XCTAssertTrue(s.contains("<repl>:1:7: error[name]"), s)
        XCTAssertTrue(s.contains("1 | print nope"), s)
        XCTAssertTrue(s.contains("|       ^^^^"), s)
        try line("x = (1 +")
        try line(")")
        try waitFor("a syntax error") { $0.contains("error[syntax]") }
        try line("print \"still alive\"")
        try waitFor("the next line runs") { $0.contains("\nstill alive\n") }
        try keys("C-d")
        try waitFor("exit 0 after errors") { $0.contains("EXITED rc=0") }
    }

    /// At the prompt a command named alone shows how to run it (a script would raise an error);
    /// one that needs no arguments runs; inside a block the rule is the script's.
    func testACommandNamedAloneShowsItsUsage() throws {
        try startREPL()
        try line("smtp.quit")
        let s = try waitFor("the usage") { $0.contains("usage: smtp.quit SESSION") }
        XCTAssertFalse(s.contains("error["), s)
        try line("trace note \"x\"; trace.clear; print (len (trace.steps))")
        try waitFor("trace.clear ran") { $0.contains("\n0\n") }
        try line("if true { smtp.quit }")
        try waitFor("the error inside a block") { $0.contains("error[type]: `smtp.quit` is a command: did you mean to run it?") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    func testCtrlCAbandonsLineAndInterruptsLoop() throws {
        try startREPL()
        try type("print \"half typed\"")
        try keys("C-c")
        try waitFor("a fresh prompt") { self.lastPromptLine($0) == "ns>" || self.lastPromptLine($0) == "ns> " }
        try line("print \"fresh\"")
        try waitFor("fresh") { $0.contains("\nfresh\n") }
        XCTAssertFalse(try screen().contains("\nhalf typed\n"), "the abandoned line must not run")

        try line("while true { }")
        usleep(300_000)
        try keys("C-c")
        try waitFor("the interrupted line") { self.interruptions($0) == 1 }
        try line("print \"alive\"")
        try waitFor("the REPL still works") { $0.contains("\nalive\n") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// Socket faults in the REPL: named errors within their timeouts, Ctrl-C ends a blocked
    /// receive, and the session carries on.
    func testSocketFaultsAndCtrlCKeepTheSession() throws {
        try startREPL()
        try line("l = listen \"127.0.0.1:0\"")
        try line("c = connect \"127.0.0.1:{l.port}\"")
        try line("recv.line c timeout: 0.3")
        try waitFor("the timeout") { $0.contains("error[timeout]: recv.line from 127.0.0.1:") }
        try line("connect \"no-such-host.invalid:80\"")
        try waitFor("the resolve error") { $0.contains("error[resolve]: cannot resolve 'no-such-host.invalid'") }
        try line("recv c")
        usleep(400_000)
        try keys("C-c")
        try waitFor("the interrupted receive") { self.interruptions($0) == 1 }
        try line("print \"sockets alive\" c.closed")
        try waitFor("the REPL still works") { $0.contains("\nsockets alive false\n") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    func testExitCommandStatus() throws {
        try startREPL()
        try line("exit 4")
        try waitFor("exit status 4") { $0.contains("EXITED rc=4") }
    }

    // MARK: the REPL as a daily tool

    /// Each entry reaches the history file as it is entered: a terminal closed under a
    /// running REPL (no clean exit) loses nothing.
    func testHistorySurvivesAKilledTerminal() throws {
        try startREPL()
        try line("print \"kept 4711\"")
        try waitFor("the output") { $0.contains("\nkept 4711\n") }
        // Close the terminal under it: the shell passes SIGHUP on to the REPL, which dies
        // there (no clean exit), as when a terminal window is closed.
        let pid = try replPID()
        XCTAssertEqual(kill(pid, SIGHUP), 0)
        try waitFor("the REPL killed") { $0.contains("EXITED rc=129") }
        try tmuxRun(["kill-server"])
        socket += "b"
        try startREPL()
        try keys("Up")
        try waitFor("the entry from the killed session") { self.lastPromptLine($0) == "ns> print \"kept 4711\"" }
        try keys("C-u", "C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// Two REPLs on one history file both keep their entries (appended, as bash's histappend).
    func testTwoREPLsShareTheHistoryFile() throws {
        try startREPL(session: "one")
        try startREPL(session: "two")
        target = "one"
        try line("print \"from one\"")
        try waitFor("one's output") { $0.contains("\nfrom one\n") }
        target = "two"
        try line("print \"from two\"")
        try waitFor("two's output") { $0.contains("\nfrom two\n") }
        target = "one"
        try keys("C-d")
        try waitFor("one exits") { $0.contains("EXITED rc=0") }
        target = "two"
        try keys("C-d")
        try waitFor("two exits") { $0.contains("EXITED rc=0") }
        try startREPL(session: "three")
        try keys("Up")
        try waitFor("two's entry") { self.lastPromptLine($0) == "ns> print \"from two\"" }
        try keys("Up")
        try waitFor("one's entry") { self.lastPromptLine($0) == "ns> print \"from one\"" }
        try keys("C-u", "C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// The shared file stays bounded: a REPL starting on a long file keeps its last 2000 entries.
    func testHistoryFileStaysBounded() throws {
        let old = (0..<2005).map { "print\\040\($0)\n" }.joined()
        try ("_HiStOrY_V2_\n" + old).write(toFile: historyPath, atomically: true, encoding: .utf8)
        try startREPL()
        try keys("Up")
        try waitFor("the newest old entry") { self.lastPromptLine($0) == "ns> print 2004" }
        try keys("C-u")
        try line("print \"newest\"")
        try waitFor("the output") { $0.contains("\nnewest\n") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
        let lines = try String(contentsOfFile: historyPath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 2000 + 1)
        XCTAssertEqual(lines.first, "_HiStOrY_V2_")
        XCTAssertEqual(lines.dropFirst().first, "print\\0405")
        XCTAssertEqual(lines.last, "print\\040\"newest\"")
    }

    /// `history` lists the session's entries; `history save` writes the ones that ran
    /// without an error as a script that runs.
    func testHistorySaveWritesARunnableScript() throws {
        let saved = tempDir.appendingPathComponent("saved.net").path
        try startREPL()
        try line("x = 20")
        try line("print nope")
        try waitFor("the error") { $0.contains("error[name]") }
        try line("fn double(n) {")
        try line("return n * 2")
        try line("}")
        try line("print (double x)")
        try waitFor("40") { $0.contains("\n40\n") }
        try line("history")
        let listing = try waitFor("the numbered listing") { $0.contains("   4  print (double x)") }
        XCTAssertTrue(listing.contains("   1  x = 20"), listing)
        XCTAssertTrue(listing.contains("   2  print nope"), listing)
        XCTAssertTrue(listing.contains("   3  fn double(n) {"), listing)
        try line("history save \"\(saved)\"")
        try waitFor("the save report") { $0.contains("saved 3 entries to") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }

        let text = try String(contentsOfFile: saved, encoding: .utf8)
        XCTAssertFalse(text.contains("nope"), text)
        XCTAssertFalse(text.contains("history"), text)
        XCTAssertTrue(text.contains("fn double(n) {\nreturn n * 2\n}"), text)
        let r = try runProcess(try NetScriptBinary.path(), [saved], timeout: 10)
        XCTAssertEqual(r.stdout, "40\n", r.stderr)
        XCTAssertEqual(r.status, 0, r.stderr)

        // In a script, `history` is an error that says it belongs to the REPL.
        let s = try runProcess(try NetScriptBinary.path(), ["-e", "history"], timeout: 10)
        XCTAssertEqual(s.status, 1)
        XCTAssertTrue(s.stderr.contains("'history' is a REPL command"), s.stderr)
    }

    /// Lists of records (native records such as DNS records, and maps) show as tables, one
    /// row an item; long ones are cut on the terminal, and `show` prints every row.
    func testListsOfRecordsShowAsTablesCutWhenLong() throws {
        try startREPL()
        try line("[dns.parse \"a.test. 300 IN A 10.0.0.1\", dns.parse \"a.test. 300 IN MX 10 mail.test.\"]")
        let s = try waitFor("a table of records") { s in
            s.split(separator: "\n").contains { $0.hasPrefix("a.test.") && $0.contains(" MX ") && $0.hasSuffix("10 mail.test.") }
        }
        let lines = s.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("name") && $0.contains("ttl") && $0.contains("type") && $0.hasSuffix("data") }, s)
        XCTAssertTrue(lines.contains { $0.hasPrefix("a.test.") && $0.contains(" A ") && $0.hasSuffix("10.0.0.1") }, s)
        XCTAssertFalse(s.contains("[a.test."), s)

        try line("xs = []")
        try line("for i in range 55 { append xs {n: i, sq: i * i} }")
        try line("xs")
        let cut = try waitFor("the cut table") { $0.contains("… 5 more") }
        XCTAssertTrue(cut.contains("\n49  2401\n"), cut)
        XCTAssertFalse(cut.contains("\n50  2500\n"), cut)
        try line("show xs")
        let all = try waitFor("every row") { $0.contains("\n54  2916\n") }
        XCTAssertFalse(all.contains("more"), all)
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// A string with braces or quotes shows without escape noise, as a literal that reads back.
    func testStringsWithBracesShowWithoutEscapes() throws {
        try startREPL()
        try line("s = \"\\{\\\"a\\\": 1}\"")
        try line("s")
        try waitFor("the single-quoted form") { $0.contains("\n'{\"a\": 1}'\n") }
        try line("[s, \"it's {1 + 1}\"]")
        try waitFor("the list") { $0.contains("\n['{\"a\": 1}', \"it's 2\"]\n") }
        try line("'{\"a\": 1}' == s")
        try waitFor("the same string") { $0.contains("\ntrue\n") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// A line the parser rejects for good never leaves the REPL waiting at `...`.
    func testEscapedQuotesInAStringDoNotOpenABlock() throws {
        try startREPL()
        try line("json.parse \"{\\\"a\\\": 1}\"")
        let s = try waitFor("the syntax error") { $0.contains("error[syntax]") }
        XCTAssertFalse(s.contains("\n..."), s)
        try line("json.parse '{\"a\": 1}'")
        try waitFor("the parsed map") { $0.contains("\na  1\n") }
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// Ctrl-C on a running server or a sleep prints one line, not a diagnostic with a caret.
    func testCtrlCOnAServerPrintsOneLine() throws {
        let port = try freePort()
        try startREPL()
        try line("serve echo \"127.0.0.1:\(port)\"")
        waitForPort(port)
        try keys("C-c")
        let s = try waitFor("interrupted") { self.interruptions($0) == 1 }
        XCTAssertFalse(s.contains("error[interrupted]"), s)
        XCTAssertFalse(s.contains("^^^"), s)
        try line("sleep 100")
        usleep(300_000)
        try keys("C-c")
        try waitFor("interrupted twice") { self.interruptions($0) == 2 }
        try line("print \"alive\"")
        try waitFor("the REPL carries on") { $0.contains("\nalive\n") }
        XCTAssertFalse(try screen().contains("^^^"))
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// `help` at the prompt ends with what the prompt itself offers.
    func testHelpNamesTheREPLCommands() throws {
        try startREPL()
        try line("help")
        let s = try waitFor("the prompt's part") { $0.contains("history save FILE keeps it as a script") }
        XCTAssertTrue(s.contains("show VALUE prints"), s)
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// Tab inside a string completes file names: directories end in `/`, a file closes the quote.
    func testTabCompletesFileNamesInStrings() throws {
        let dir = tempDir.appendingPathComponent("fichiers-é")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("subdir"), withIntermediateDirectories: true)
        try "one\ntwo\n".write(to: dir.appendingPathComponent("data-file.txt"), atomically: true, encoding: .utf8)
        try startREPL()
        // (A non-ASCII character before the string: libedit counts the cursor in characters.)
        try type("print \"é\" (lines \"\(dir.path)/da")
        try keys("Tab")
        try waitFor("the file name and closing quote") { self.lastPromptLine($0) == "ns> print \"é\" (lines \"\(dir.path)/data-file.txt\"" }
        try line(")")
        // Tab typed ahead while a line runs would meet the terminal's own line editing.
        try waitFor("the file's lines, then the prompt") { $0.contains("\né [\"one\", \"two\"]\nns>") }
        try type("lines \"\(dir.path)/su")
        try keys("Tab")
        try waitFor("the directory with a slash") { self.lastPromptLine($0) == "ns> lines \"\(dir.path)/subdir/" }
        try keys("C-u", "C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }

    /// How many step prompts the screen shows.
    func stepStops(_ s: String) -> Int { s.components(separatedBy: "── step: ").count - 1 }

    /// Step mode at a terminal, against a real SMTP server (aiosmtpd) and a socket pair: each
    /// step is shown with its meaning and the reply to expect before it is sent; Enter sends it,
    /// `c` runs the rest of the command, `q` abandons the command before the bytes go.
    func testStepModeShowsEachStepAndWaits() throws {
        let py = try python()
        guard (try? runProcess(py, ["-c", "import aiosmtpd"]))?.status == 0 else { throw XCTSkip("aiosmtpd is not installed") }
        let port = try freePort()
        let smtp = try startQuiet(py, ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Sink"])
        defer { stopProcesses([smtp]) }
        waitForListening(port)

        try startREPL()
        try line("step on")
        try line("s = smtp.connect \"127.0.0.1:\(port)\"")
        try line("smtp.noop s")
        let shown = try waitFor("the NOOP step") { self.stepStops($0) == 1 && $0.contains("[q] abandon") }
        XCTAssertTrue(shown.contains("── step: smtp is about to send\n   C: NOOP\n"), shown)
        XCTAssertTrue(shown.contains("means:  NOOP: does nothing"), shown)
        XCTAssertTrue(shown.contains("expect: 250"), shown)
        XCTAssertFalse(shown.contains("code  250"), "nothing sent before Enter: \(shown)")
        try keys("Enter")
        try waitFor("the reply after Enter") { $0.contains("code  250") }

        // `c`: one stop, then the rest of the command runs through.
        try keys("C-l")
        try line("for i in [1, 2, 3] { smtp.noop s }")
        try waitFor("the first NOOP of three") { self.stepStops($0) == 1 }
        try type("c")
        try line("print \"after c\"")
        let after = try waitFor("the command's end") { $0.contains("\nafter c\n") }
        XCTAssertEqual(stepStops(after), 1, after)

        // `q`: the command is abandoned as interrupted, and the bytes never reach the peer.
        try keys("C-l")
        try line("l = listen \"127.0.0.1:0\"")
        try line("c = connect \"127.0.0.1:{l.port}\" timeout: 5")
        try line("a = accept l timeout: 5")
        try line("send c \"one\\n\"")
        let sock = try waitFor("the socket send step") { self.stepStops($0) == 1 && $0.contains("[q] abandon") }
        XCTAssertTrue(sock.contains("C: → 4 bytes \"one\\n\""), sock)
        try type("q")
        try waitFor("the abandoned command") { self.interruptions($0) == 1 || $0.contains("error[interrupted]") }
        try line("step off")
        try line("send c \"two\\n\"")
        try line("print (recv.line a timeout: 2)")
        let end = try waitFor("what the peer received") { $0.contains("\ntwo\n") }
        XCTAssertFalse(end.contains("\none\n"), end)
        try keys("C-d")
        try waitFor("exit") { $0.contains("EXITED rc=0") }
    }
}
